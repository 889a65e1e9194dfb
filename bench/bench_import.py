"""How long `import measurekit` takes (target: under 1 s). Run: python bench/bench_import.py"""
import statistics
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import measurekit; print(time.perf_counter() - t)"
times = [float(subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout)
         for _ in range(5)]
print(f"import measurekit: median {statistics.median(times) * 1000:.1f} ms over 5 fresh interpreters (target < 1000 ms)")
