set -eu
echo "$MODEL_SHA256  $MODEL_PATH" | sha256sum -c -
