@echo off
echo Hello from Contoso Hello App 1.0.0
