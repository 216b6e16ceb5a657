# Intune detection rule script (template, not run here): installed when the binary and
# the agent task are both there. Intune reads "installed" from any output with exit 0.
$binary = Test-Path "C:\Program Files\shadowmap\shadowmap.exe"
$task = Get-ScheduledTask -TaskPath "\shadowmap\" -TaskName "agent" -ErrorAction SilentlyContinue
if ($binary -and $task) { Write-Output "shadowmap agent installed"; exit 0 }
exit 1
