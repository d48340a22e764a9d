# Free disk for a CI run: checked before the run starts, and the run's peak use measured while it
# runs. Sourced by .ci/run.
#
# A run from nothing builds the main job into TMPDIR (deleted once it ran), then the tests into
# CARGO_TARGET_DIR, and holds a clone of the commit with its .venv in TMPDIR throughout. The
# figures are the measured peaks with a margin; .ci/run prints the peak of every run, so they can
# be kept true. KMS_WORKSHOP_DISK_CHECK=0 skips the check (the run may then fail on a full disk).
#
# Filesystems are read with `stat -f` and told apart by device number (`stat -c %d`), not by
# parsing df's columns: a mount point or device name with a space in it must not shift a field.

# In MiB. Target directory and TMPDIR on one filesystem: the run's peak was 6,183 MiB on
# 5 Dec 2026 (7,509 before clippy and the fuzz check built apart from the tests).
DISK_NEED_MB=7000
# On filesystems of their own: the tests' build, and the clone, .venv and main job (2,640 MiB).
DISK_NEED_TARGET_MB=6500
DISK_NEED_TMP_MB=3500

# PATH, or its nearest existing parent (the target directory may not exist yet).
disk_existing() {
    local path="$1"
    while [ ! -e "$path" ]; do path="$(dirname "$path")"; done
    printf '%s\n' "$path"
}

# MiB free to an unprivileged user on PATH's filesystem; empty when it cannot be read.
disk_free_mb() {
    stat -f -c '%a %S' "$1" 2>/dev/null | awk '{ printf "%d\n", $1 * $2 / 1048576 }'
}

# KiB in use on PATH's filesystem; empty when it cannot be read.
disk_used_kb() {
    stat -f -c '%b %f %S' "$1" 2>/dev/null | awk '{ printf "%d\n", ($1 - $2) * $3 / 1024 }'
}

# Fails, in words, when the disk is too short for a run from nothing.
disk_preflight() {
    local target tmp short=0
    target="$(disk_existing "$1")"
    tmp="$(disk_existing "$2")"
    if [ "${KMS_WORKSHOP_DISK_CHECK:-1}" = "0" ]; then
        echo "disk: the check is off (KMS_WORKSHOP_DISK_CHECK=0)" >&2
        return 0
    fi
    if [ "$(stat -c %d "$target")" = "$(stat -c %d "$tmp")" ]; then
        disk_require "$target" "$DISK_NEED_MB" "the target directory ($1) and TMPDIR ($2)" ||
            short=1
    else
        disk_require "$target" "$DISK_NEED_TARGET_MB" "the target directory ($1)" || short=1
        disk_require "$tmp" "$DISK_NEED_TMP_MB" "TMPDIR ($2)" || short=1
    fi
    if [ "$short" -eq 1 ]; then
        echo "disk: free space there, or point CARGO_TARGET_DIR or TMPDIR at a larger disk;" \
            "KMS_WORKSHOP_DISK_CHECK=0 runs anyway" >&2
        exit 1
    fi
}

# A free space that cannot be read fails the check too: a check that passes on an error would
# only move the failure twenty minutes on.
disk_require() {
    local path="$1" need="$2" what="$3" free
    free="$(disk_free_mb "$path")"
    if ! [ "$free" -ge 0 ] 2>/dev/null; then
        echo "error: cannot read the free space at $path, which holds $what" >&2
        return 1
    fi
    if [ "$free" -lt "$need" ]; then
        echo "error: $free MiB free at $path, which holds $what; a run from nothing needs" \
            "about $need MiB there" >&2
        return 1
    fi
    echo "disk: $free MiB free at $path ($what; a run needs about $need MiB)" >&2
}

# The sampler: every 2 s, the used space of PATH's filesystem, the highest kept in FILE. It
# reads its standard input, a pipe only the run and its children hold, and ends when that
# closes: a run killed outright leaves no sampler behind (a check of the run's PID would see a
# zombie as alive). Its own output goes nowhere, so it never holds the run's open.
disk_sample() {
    local path="$1" file="$2" peak used
    set +e +o pipefail
    peak="$(cat "$file")"
    while true; do
        used="$(disk_used_kb "$path")"
        if [ -n "$used" ] && [ "$used" -gt "$peak" ]; then
            peak="$used"
            echo "$peak" >"$file.new" && mv "$file.new" "$file"
        fi
        read -r -t 2 _ && continue
        # read's status above 128 is its timeout; anything else is the pipe's end.
        [ $? -gt 128 ] || return 0
    done
}

# Starts the sampler on PATH's filesystem. Best effort: a disk that cannot be read is reported
# and the run goes on unwatched.
disk_watch_start() {
    _disk_path="$(disk_existing "$1")"
    _disk_start_kb="$(disk_used_kb "$_disk_path")" || true
    if [ -z "$_disk_start_kb" ]; then
        echo "disk: cannot read the used space at $_disk_path; the peak will not be measured" >&2
        return 0
    fi
    _disk_peak_file="$(mktemp "${TMPDIR:-/tmp}/kms-workshop-disk.XXXXXX")" || return 0
    echo "$_disk_start_kb" >"$_disk_peak_file"
    exec {_disk_pipe}> >(disk_sample "$_disk_path" "$_disk_peak_file" >/dev/null 2>&1)
}

# Stops the sampler and prints the peak; keeps the exit status of the run (an EXIT trap).
disk_watch_report() {
    local status=$? peak
    if [ -n "${_disk_pipe:-}" ]; then
        exec {_disk_pipe}>&-
        peak="$(cat "$_disk_peak_file" 2>/dev/null)" || true
        rm -f "$_disk_peak_file" "$_disk_peak_file.new"
        if [ -n "$peak" ]; then
            echo "disk: the run's use at $_disk_path peaked $(((peak - _disk_start_kb) / 1024))" \
                "MiB above its start (sampled every 2 s, the whole filesystem);" \
                "$(disk_free_mb "$_disk_path") MiB free now" >&2
        fi
    fi
    return "$status"
}
