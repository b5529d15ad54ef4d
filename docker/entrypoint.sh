#!/bin/sh
# Apply the migrations, then hand the process over to gunicorn (PID 1 gets SIGTERM).
set -eu
flask --app talaro db upgrade
exec gunicorn --config /app/gunicorn.conf.py "talaro:create_app()"
