#!/bin/sh
# cdktf.json's `app`: what `npx cdktf-cli@0.21.0 synth|deploy|diff` runs. Before `make synth` has created the
# virtual environment, say so instead of `.venv/bin/python: not found`.
if [ ! -x .venv/bin/python ]; then
    echo "error: .venv/bin/python is missing: run \`make synth\` first (it creates the virtual environment .venv and synthesizes every stack)" >&2
    exit 2
fi
exec .venv/bin/python main.py "$@"
