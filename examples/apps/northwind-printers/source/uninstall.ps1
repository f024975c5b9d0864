# Northwind Printer Drivers: removes the print driver and the staged driver package.
$ErrorActionPreference = 'SilentlyContinue'
Remove-PrinterDriver -Name 'Northwind Universal PCL6'
Get-WindowsDriver -Online | Where-Object { $_.OriginalFileName -like '*northwind-universal.inf' } |
  ForEach-Object { & "$env:SystemRoot\System32\pnputil.exe" /delete-driver $_.Driver /uninstall /force | Out-Null }
Remove-Item -Path 'HKLM:\SOFTWARE\Northwind\PrinterDrivers' -Recurse -Force
exit 0
