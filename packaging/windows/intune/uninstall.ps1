# Intune Win32 app uninstall command (template, not run here), in SYSTEM context.
$ErrorActionPreference = "SilentlyContinue"
foreach ($name in "agent", "notify") {
    Stop-ScheduledTask -TaskPath "\shadowmap\" -TaskName $name
    Unregister-ScheduledTask -TaskPath "\shadowmap\" -TaskName $name -Confirm:$false
}
Remove-Item -Recurse -Force "C:\Program Files\shadowmap", "C:\ProgramData\shadowmap"
