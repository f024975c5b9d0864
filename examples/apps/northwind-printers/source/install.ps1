# Northwind Printer Drivers 3.1: stages the signed driver package and registers the print driver.
$ErrorActionPreference = 'Stop'
$inf = Join-Path $PSScriptRoot 'drivers\northwind-universal.inf'
& "$env:SystemRoot\System32\pnputil.exe" /add-driver $inf /install | Out-Null
if ($LASTEXITCODE -notin 0, 3010) { exit $LASTEXITCODE }
Add-PrinterDriver -Name 'Northwind Universal PCL6'
New-Item -Path 'HKLM:\SOFTWARE\Northwind\PrinterDrivers' -Force | Out-Null
Set-ItemProperty -Path 'HKLM:\SOFTWARE\Northwind\PrinterDrivers' -Name 'Version' -Value '3.1.0'
exit 0
