#!/usr/bin/env bash
# Builds the app in release and starts the server (app + JSON API) on 127.0.0.1:8080.
# ASSIETTE_PORT changes the port, DATABASE_URL the database (default sqlite://data/assiette.sqlite3).
# The demo commune and canteen are created, with a code for the demo tablet (ASSIETTE_DEMO=0: not).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ASSIETTE_DEMO=${ASSIETTE_DEMO:-1} exec target/release/assiette-server serve
