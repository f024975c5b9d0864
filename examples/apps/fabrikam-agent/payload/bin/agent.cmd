@echo off
rem Fabrikam Endpoint Agent 5.2.0 - heartbeat stub.
if /i "%~1"=="heartbeat" (
  echo %DATE% %TIME% heartbeat>>"%ProgramData%\Fabrikam\Agent\heartbeat.log"
  exit /b 0
)
echo Fabrikam Endpoint Agent 5.2.0
