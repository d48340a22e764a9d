# Free disk for a CI run: checked before the run starts, and the run's peak use measured while it
# runs. Sourced by .ci/run.
#
# A run from nothing builds the main job into TMPDIR (deleted once it ran), then the tests into
# CARGO_TARGET_DIR, and holds a clone of the commit with its .venv in TMPDIR throughout. The
# figures are the measured peaks with a margin; .ci/run prints the peak of every run, so they can
# be kept true. KMS_WORKSHOP_DISK_CHECK=0 skips the check (the run may then fail on a full disk).

# In MiB, as `df -m` counts. Target directory and TMPDIR on one filesystem: the run's peak was
# 6,183 MiB on 5 Dec 2026 (7,509 before clippy and the fuzz check had directories of their own).
DISK_NEED_MB=7000
# On filesystems of their own: the tests' build, and the clone, .venv and main job (2,640 MiB).
DISK_NEED_TARGET_MB=6500
DISK_NEED_TMP_MB=3500

# The mount point holding PATH, or its nearest existing parent (the target directory may not
# exist yet).
disk_mount() {
    local path="$1"
    while [ ! -e "$path" ]; do path="$(dirname "$path")"; done
    df -P "$path" | awk 'NR == 2 { print $6 }'
}

disk_free_mb() {
    df -Pm "$1" | awk 'NR == 2 { print $4 }'
}

disk_used_kb() {
    df -Pk "$1" | awk 'NR == 2 { print $3 }'
}

# Fails, in words, when the disk is too short for a run from nothing.
disk_preflight() {
    local target tmp short=0
    target="$(disk_mount "$1")"
    tmp="$(disk_mount "$2")"
    if [ "${KMS_WORKSHOP_DISK_CHECK:-1}" = "0" ]; then
        echo "disk: the check is off (KMS_WORKSHOP_DISK_CHECK=0); $(disk_free_mb "$target") MiB free on $target" >&2
        return 0
    fi
    if [ "$target" = "$tmp" ]; then
        disk_require "$target" "$DISK_NEED_MB" "the target directory ($1) and TMPDIR ($2)" || short=1
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

disk_require() {
    local mount="$1" need="$2" what="$3" free
    free="$(disk_free_mb "$mount")"
    if [ "$free" -lt "$need" ]; then
        echo "error: $free MiB free on $mount, which holds $what; a run from nothing needs" \
            "about $need MiB there" >&2
        return 1
    fi
    echo "disk: $free MiB free on $mount ($what; a run needs about $need MiB)" >&2
}

# Samples the used space of PATH's filesystem every 2 s in the background, keeping the highest.
disk_watch_start() {
    _disk_mount="$(disk_mount "$1")"
    _disk_start_kb="$(disk_used_kb "$_disk_mount")"
    _disk_peak_file="$(mktemp "${TMPDIR:-/tmp}/kms-workshop-disk.XXXXXX")"
    echo "$_disk_start_kb" >"$_disk_peak_file"
    (
        peak="$_disk_start_kb"
        # $$ is the sourcing shell: the sampler ends with it even when no trap runs.
        while kill -0 "$$" 2>/dev/null; do
            used="$(disk_used_kb "$_disk_mount")"
            if [ "$used" -gt "$peak" ]; then
                peak="$used"
                echo "$peak" >"$_disk_peak_file"
            fi
            sleep 2
        done
    ) &
    _disk_watch_pid=$!
}

# Stops the sampler and prints the peak; keeps the exit status of the run (an EXIT trap).
disk_watch_report() {
    local status=$? peak
    kill "$_disk_watch_pid" 2>/dev/null || true
    wait "$_disk_watch_pid" 2>/dev/null || true
    peak="$(cat "$_disk_peak_file" 2>/dev/null || echo "$_disk_start_kb")"
    rm -f "$_disk_peak_file"
    echo "disk: the run's use on $_disk_mount peaked $(((peak - _disk_start_kb) / 1024)) MiB" \
        "above its start (sampled every 2 s); $(disk_free_mb "$_disk_mount") MiB free now" >&2
    return "$status"
}
