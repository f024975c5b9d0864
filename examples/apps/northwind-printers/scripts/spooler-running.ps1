# Requirement: the Print Spooler service exists and is not disabled (outputs True or False).
$spooler = Get-Service -Name Spooler -ErrorAction SilentlyContinue
Write-Output ([bool]($spooler -and $spooler.StartType -ne 'Disabled'))
