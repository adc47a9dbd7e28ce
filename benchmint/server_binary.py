"""llama.cpp's own server (`llama-server`), built once from the installed llama-cpp-python's source.

The llama-cpp-python sdist vendors the whole llama.cpp tree, server included (MIT). `make install`
runs `python -m benchmint.server_binary`, which builds the `llama-server` target with CMake into a
cache folder keyed on the llama-cpp-python version and this CPU's flags (the build is -march=native),
so a machine that has it takes no time, and another CPU or version gets its own build.

    python -m benchmint.server_binary          # build if missing, print the binary's path
    python -m benchmint.server_binary --where  # print where it would be, build nothing
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ENV_BINARY = "BENCHMINT_LLAMA_SERVER"  # a llama-server binary to use instead of the cached build
PACKAGE = "llama-cpp-python"
# The same flags every time: a re-run then finds CMake's cache unchanged and rebuilds nothing.
# GGML_OPENMP=ON: ggml's threads then meet at OpenMP's barrier, which can sleep (the server runs them with
# OMP_WAIT_POLICY=PASSIVE, benchmint.local_server); ggml's own barrier only spins, and with a busy neighbour
# on the cores a spinning thread holds the core its partner needs (one request over 14x slower, BENCHMARKS.md).
# LLAMA_USE_PREBUILT_UI=OFF: the build would otherwise try to download the web UI from a model hub.
CMAKE_FLAGS = ("-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_BUILD_SERVER=ON", "-DGGML_NATIVE=ON", "-DGGML_OPENMP=ON",
               "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
               "-DLLAMA_USE_PREBUILT_UI=OFF")
BUILD_HINT = "make install (or: .venv/bin/python -m benchmint.server_binary), about 10 minutes once"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "benchmint" / "llama-server"


def cpu_flags() -> set[str]:
    """This CPU's feature flags (/proc/cpuinfo; empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return set(next((ln.split(":", 1)[1] for ln in f if ln.startswith("flags")), "").split())
    except OSError:
        return set()


def cpu_flags_hash() -> str:
    """A short hash of this CPU's feature flags: a -march=native build runs only where they match."""
    return hashlib.sha256(" ".join(sorted(cpu_flags())).encode()).hexdigest()[:12]


def amx_advertised(flags: set[str] | None = None) -> bool:
    """Does the CPU say it has AMX? Some virtual machines say so, and grant the permission, yet fault on the
    first tile instruction (SIGILL in ggml's AMX kernels at the server's warm-up, seen on a 2-core VM here);
    llama-server then runs with weight repacking off, which is what selects those kernels."""
    return "amx_int8" in (cpu_flags() if flags is None else flags)


def llama_cpp_version() -> str | None:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def build_dir(version: str) -> Path:
    """One folder per version, CPU and set of build flags (changed flags build anew instead of reusing)."""
    flags = hashlib.sha256(" ".join(CMAKE_FLAGS).encode()).hexdigest()[:6]
    return cache_root() / f"{version}-{cpu_flags_hash()}-{flags}"


def _built(folder: Path) -> Path:
    return folder / "build" / "bin" / "llama-server"


def find_binary() -> Path | None:
    """The llama-server to run: $BENCHMINT_LLAMA_SERVER, else this version's cached build; None when neither."""
    if given := os.environ.get(ENV_BINARY):
        p = Path(given).expanduser()
        return p if p.is_file() and os.access(p, os.X_OK) else None
    version = llama_cpp_version()
    if version is None:
        return None
    p = _built(build_dir(version))
    done = p.with_name("llama-server.ok")  # written after a build that ran: a half-linked file is not used
    return p if p.is_file() and done.is_file() and os.access(p, os.X_OK) else None


def _fetch_sdist(version: str, into: Path) -> Path:
    """The sdist from the configured package index (pip's own client and cache)."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
           f"{PACKAGE}=={version}", "-d", str(into)]
    subprocess.run(cmd, check=True)
    found = sorted(into.glob("llama_cpp_python-*.tar.gz"))
    if not found:
        raise SystemExit(f"pip download left no {PACKAGE} {version} sdist in {into}")
    return found[0]


def _extract_vendored(sdist: Path, dest: Path) -> None:
    """Only vendor/llama.cpp/ of the sdist, into dest."""
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(sdist) as tar:
        members = []
        for m in tar.getmembers():
            parts = m.name.split("/", 3)
            if len(parts) == 4 and parts[1:3] == ["vendor", "llama.cpp"]:
                m.name = parts[3]
                members.append(m)
        tar.extractall(tmp, members=members, filter="data")
    os.replace(tmp, dest)


def build(jobs: int = 2, log=print) -> Path:  # noqa: ANN001 - a print-like callable
    """Build llama-server for the installed llama-cpp-python unless it is there; return its path."""
    if (ready := find_binary()) is not None:
        return ready
    version = llama_cpp_version()
    if version is None:
        raise SystemExit(f"{PACKAGE} is not installed: pip install 'benchmint[local]' first")
    folder = build_dir(version)
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "src"
    if not (src / "tools" / "server" / "CMakeLists.txt").is_file():
        log(f"fetching the {PACKAGE} {version} source (it vendors llama.cpp)")
        with tempfile.TemporaryDirectory() as tmp:
            _extract_vendored(_fetch_sdist(version, Path(tmp)), src)
    # nice 19: the compile takes both cores for ~10 minutes; the rest of the machine goes first.
    nice = ["nice", "-n", "19"] if shutil.which("nice") else []
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    log(f"building llama-server (llama.cpp from {PACKAGE} {version}) in {folder}: ~10 minutes, once")
    subprocess.run([*nice, "cmake", "-S", str(src), "-B", str(folder / "build"), *gen, *CMAKE_FLAGS],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*nice, "cmake", "--build", str(folder / "build"), "--target", "llama-server", "-j", str(jobs)],
                   check=True)
    binary = _built(folder)
    subprocess.run([str(binary), "--version"], check=True, capture_output=True)
    binary.with_name("llama-server.ok").write_text(f"{PACKAGE} {version}\n")
    return binary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmint.server_binary", description=__doc__.split("\n\n")[0])
    ap.add_argument("--where", action="store_true",
                    help="print the binary's path (or where it would be); build nothing")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if args.where:
        version = llama_cpp_version()
        found = find_binary()
        print(found or (_built(build_dir(version)) if version else f"{PACKAGE} is not installed"))
        return 0 if found else 1
    try:
        print(build(args.jobs, log=lambda m: print(m, file=sys.stderr)))
    except subprocess.CalledProcessError as exc:
        print(f"building llama-server failed ({exc}); benchmint falls back to llama_cpp.server", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
