# Hello App installer: copies the app into Program Files and records its version for detection.
$ErrorActionPreference = 'Stop'
$target = Join-Path $env:ProgramFiles 'Contoso\HelloApp'
New-Item -ItemType Directory -Force -Path $target | Out-Null
Copy-Item -Path (Join-Path $PSScriptRoot 'app\*') -Destination $target -Recurse -Force
New-Item -Path 'HKLM:\SOFTWARE\Contoso\HelloApp' -Force | Out-Null
Set-ItemProperty -Path 'HKLM:\SOFTWARE\Contoso\HelloApp' -Name 'Version' -Value '1.0.0'
exit 0
