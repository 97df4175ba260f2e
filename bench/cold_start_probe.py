"""One cold start, run by path in a fresh interpreter: ``python cold_start_probe.py <subject ...>``.

Subjects:
    function <code dir> <handler module> <handler attribute> [<layer dir> ...]
        import the handler module as Lambda does (code dir first on ``sys.path``, then the layers),
        which builds whatever the module builds at import time;
    boto3-client <service> [<layer dir> ...]
        the baseline: ``import boto3`` (from the layers, when given) and create one client.

Prints ``elapsed_ms <milliseconds>``: the time from just before the import to just after it.
Only ``sys`` and ``time`` are imported before the clock starts (both are loaded at startup anyway).
"""
import sys
import time


def main(argv: list[str]) -> int:
    kind = argv[1]
    if kind == "function":
        code_dir, module_name, attribute, *layer_dirs = argv[2:]
        sys.path[:0] = [code_dir, *layer_dirs]
        start = time.perf_counter()
        module = __import__(module_name, fromlist=["_"])
        handler = getattr(module, attribute)
        elapsed = time.perf_counter() - start
        if not callable(handler):
            print(f"{module_name}.{attribute} is not callable", file=sys.stderr)
            return 2
    elif kind == "boto3-client":
        service, *layer_dirs = argv[2:]
        sys.path[:0] = layer_dirs
        start = time.perf_counter()
        import boto3

        boto3.client(service)
        elapsed = time.perf_counter() - start
    else:
        print(f"unknown subject {kind!r}", file=sys.stderr)
        return 2
    print(f"elapsed_ms {elapsed * 1000:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
