# Detection for Northwind Printer Drivers 3.1: the print driver is registered at version 3.1 or later.
# Intune treats exit code 0 with output on STDOUT as "installed".
$driver = Get-PrinterDriver -Name 'Northwind Universal PCL6' -ErrorAction SilentlyContinue
if ($null -eq $driver) { exit 0 }
$version = [version]((Get-ItemProperty -Path 'HKLM:\SOFTWARE\Northwind\PrinterDrivers' -ErrorAction SilentlyContinue).Version)
if ($version -ge [version]'3.1.0') {
  Write-Output "Northwind Universal PCL6 $version"
}
exit 0
