# Contoso Notes 2.4.1 installer: copies the app into Program Files, adds a Start menu shortcut and records the
# version where the Intune detection rule reads it (HKLM\SOFTWARE\Contoso\Notes, Version).
$ErrorActionPreference = 'Stop'
$version = '2.4.1'
$target = Join-Path $env:ProgramFiles 'Contoso\Notes'
New-Item -ItemType Directory -Force -Path $target | Out-Null
Copy-Item -Path (Join-Path $PSScriptRoot 'app\*') -Destination $target -Recurse -Force

$shell = New-Object -ComObject WScript.Shell
$lnk = $shell.CreateShortcut((Join-Path $env:ProgramData 'Microsoft\Windows\Start Menu\Programs\Contoso Notes.lnk'))
$lnk.TargetPath = Join-Path $target 'notes.cmd'
$lnk.Save()

$key = 'HKLM:\SOFTWARE\Contoso\Notes'
New-Item -Path $key -Force | Out-Null
Set-ItemProperty -Path $key -Name 'Version' -Value $version
Set-ItemProperty -Path $key -Name 'InstallDir' -Value $target
exit 0
