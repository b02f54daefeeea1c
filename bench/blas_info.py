"""Which BLAS this numpy uses, for the bench's report (imported by numpy_rnn.py and h5py_predict.py).

Build-time: numpy.show_config(mode="dicts") (numpy >= 1.26), else numpy.__config__'s
blas_opt_info. Run-time: threadpoolctl when importable; otherwise the BLAS/LAPACK shared
libraries mapped into this process (/proc/self/maps) and, for OpenBLAS, its own
openblas_get_config / openblas_get_num_threads (the symbols threadpoolctl reads).
"""
import ctypes
import os


def _build(np):
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        pass
    try:
        info = np.__config__.blas_opt_info
        return "libraries " + ",".join(info.get("libraries", [])) + " in " + ",".join(info.get("library_dirs", []))
    except Exception:
        return "unknown"


def _mapped_libraries():
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if line.rstrip().endswith(".so") or ".so." in line}
    except OSError:
        return []
    return sorted(p for p in paths if any(k in os.path.basename(p).lower() for k in ("blas", "lapack", "mkl", "blis")))


def _openblas_runtime(path):
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_"):
            get_config = getattr(lib, f"{prefix}openblas_get_config{suffix}", None)
            threads = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            if get_config and threads:
                get_config.restype = ctypes.c_char_p
                return f"{get_config().decode()}, {threads()} threads"
    return None


def blas_info(np):
    build = _build(np)
    try:
        from threadpoolctl import threadpool_info

        runtime = "; ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        )
        return f"{build}; threadpoolctl: {runtime}"
    except ImportError:
        pass
    libs = _mapped_libraries()
    runtime = [r for r in (_openblas_runtime(p) for p in libs if "openblas" in p.lower()) if r]
    text = f"{build}; loaded: {', '.join(libs) or 'no BLAS library found in /proc/self/maps'}"
    if runtime:
        text += f"; {runtime[0]}"
    return text
