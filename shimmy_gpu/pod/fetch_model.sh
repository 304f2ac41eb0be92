set -eu
verify() { echo "$MODEL_SHA256  $1" | sha256sum -c -; }
if [ -s "$MODEL_PATH" ] && verify "$MODEL_PATH"; then exit 0; fi
rm -f "$MODEL_PATH" "$MODEL_PATH.part"
fetch() { curl -fL --proto =https --proto-redir =https --retry 5 --retry-delay 10 -o "$MODEL_PATH.part" "$@" "$MODEL_URL"; }
# The token goes to curl on stdin, never on a command line.
if [ -n "${MODEL_TOKEN:-}" ]; then
  printf 'header = "Authorization: Bearer %s"\n' "$MODEL_TOKEN" | fetch --config -
else
  fetch
fi
verify "$MODEL_PATH.part" || { rm -f "$MODEL_PATH.part"; exit 1; }
mv "$MODEL_PATH.part" "$MODEL_PATH"
