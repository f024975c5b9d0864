# Contoso Notes uninstaller: removes the files, the shortcut and the detection key.
$ErrorActionPreference = 'SilentlyContinue'
Remove-Item -Path (Join-Path $env:ProgramFiles 'Contoso\Notes') -Recurse -Force
Remove-Item -Path (Join-Path $env:ProgramData 'Microsoft\Windows\Start Menu\Programs\Contoso Notes.lnk') -Force
Remove-Item -Path 'HKLM:\SOFTWARE\Contoso\Notes' -Recurse -Force
exit 0
