@echo off
rem Contoso Notes 2.4.1 - opens today's note in Notepad.
set NOTES=%USERPROFILE%\Documents\Contoso Notes
if not exist "%NOTES%" mkdir "%NOTES%"
for /f %%d in ('powershell -NoProfile -Command "Get-Date -Format yyyy-MM-dd"') do set TODAY=%%d
start "" notepad.exe "%NOTES%\%TODAY%.txt"
