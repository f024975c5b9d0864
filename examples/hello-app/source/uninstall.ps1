# Hello App uninstaller.
$ErrorActionPreference = 'SilentlyContinue'
Remove-Item -Path (Join-Path $env:ProgramFiles 'Contoso\HelloApp') -Recurse -Force
Remove-Item -Path 'HKLM:\SOFTWARE\Contoso\HelloApp' -Recurse -Force
exit 0
