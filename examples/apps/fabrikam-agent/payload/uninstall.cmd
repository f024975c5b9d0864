@echo off
rem Fabrikam Endpoint Agent - silent uninstall.
schtasks /delete /tn "Fabrikam\Agent heartbeat" /f >nul 2>&1
rmdir /s /q "%ProgramFiles%\Fabrikam\Agent"
reg delete "HKLM\SOFTWARE\Fabrikam\Agent" /f >nul 2>&1
exit /b 0
