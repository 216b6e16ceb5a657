# Intune Win32 app install command (template, not run here), in SYSTEM context:
#   powershell.exe -ExecutionPolicy Bypass -File install.ps1 -CollectorUrl https://... -EnrollSecret ...
# Copies the onedir build, writes agent.toml and the secret (SYSTEM and Administrators
# only), registers both tasks and starts the agent.
param(
    [Parameter(Mandatory = $true)][string]$CollectorUrl,
    [Parameter(Mandatory = $true)][string]$EnrollSecret
)
$ErrorActionPreference = "Stop"
$app = "C:\Program Files\shadowmap"
$data = "C:\ProgramData\shadowmap"
New-Item -ItemType Directory -Force -Path $app, $data | Out-Null
Copy-Item -Recurse -Force "$PSScriptRoot\shadowmap\*" $app
icacls $data /inheritance:r /grant:r "SYSTEM:(OI)(CI)F" "Administrators:(OI)(CI)F" | Out-Null
Set-Content -Path "$data\enroll_secret" -Value $EnrollSecret -NoNewline
$config = "collector = `"$CollectorUrl`"`r`nenroll_secret_file = 'C:\ProgramData\shadowmap\enroll_secret'`r`n"
Set-Content -Path "$data\agent.toml" -Value $config
foreach ($task in "shadowmap-agent-task.xml", "shadowmap-notify-task.xml") {
    $xml = Get-Content -Raw "$PSScriptRoot\$task"
    $name = if ($task -like "*agent*") { "agent" } else { "notify" }
    Register-ScheduledTask -TaskPath "\shadowmap\" -TaskName $name -Xml $xml -Force | Out-Null
}
Start-ScheduledTask -TaskPath "\shadowmap\" -TaskName "agent"
