"""Trim botocore's service models to the input constraints the sandbox validates.

Each output file holds, for one service: the botocore version it came from, every operation
name of the service (so a test can tell an operation the sandbox serves without constraints),
the input shape of each operation kept, and the shapes reachable from those inputs with only
the members validation reads. EC2's model is large: only the operations the sandbox serves
(`ec2-operations.txt`) are kept for it.
"""

import json
import pathlib
import shutil
import sys

import botocore
import botocore.loaders

# The sandbox's file name -> botocore's service name.
SERVICES = {
    "cloudformation": "cloudformation",
    "cloudtrail": "cloudtrail",
    "cloudwatch": "cloudwatch",
    "ec2": "ec2",
    "events": "events",
    "iam": "iam",
    "kms": "kms",
    "sns": "sns",
    "sts": "sts",
    "ssm": "ssm",
}
SHAPE_KEYS = ("type", "required", "min", "max", "pattern", "enum", "sensitive", "flattened")
REF_KEYS = ("shape", "locationName", "queryName", "flattened")


def trim(model, keep):
    shapes = model["shapes"]
    out = {}

    def ref(r):
        return {k: v for k, v in r.items() if k in REF_KEYS}

    def walk(name):
        if name in out:
            return
        s = shapes[name]
        t = {k: v for k, v in s.items() if k in SHAPE_KEYS}
        out[name] = t
        if "members" in s:
            t["members"] = {m: ref(r) for m, r in s["members"].items()}
            for r in s["members"].values():
                walk(r["shape"])
        for k in ("member", "key", "value"):
            if k in s:
                t[k] = ref(s[k])
                walk(s[k]["shape"])

    operations = {}
    for name, op in sorted(model["operations"].items()):
        if keep is not None and name not in keep:
            continue
        operations[name] = op.get("input", {}).get("shape")
        if operations[name]:
            walk(operations[name])
    return {
        "botocore": botocore.__version__,
        "protocol": model["metadata"]["protocol"],
        "all_operations": sorted(model["operations"]),
        "operations": operations,
        "shapes": dict(sorted(out.items())),
    }


def main(dest):
    dest = pathlib.Path(dest)
    loader = botocore.loaders.Loader()
    for file, service in SERVICES.items():
        model = loader.load_service_model(service, "service-2")
        listed = dest / f"{file}-operations.txt"
        keep = None
        if listed.exists():
            keep = {l.strip() for l in listed.read_text().splitlines() if l.strip()}
        text = json.dumps(trim(model, keep), indent=0, separators=(",", ":"))
        (dest / f"{file}.json").write_text(text + "\n")
    info = pathlib.Path(botocore.__file__).parent.parent / f"botocore-{botocore.__version__}.dist-info"
    shutil.copy(info / "LICENSE.txt", dest / "LICENSE-botocore.txt")
    shutil.copy(info / "NOTICE", dest / "NOTICE-botocore")


if __name__ == "__main__":
    main(sys.argv[1])
