import sys

sys.stderr.write("fatal: cannot open model file\n")
sys.exit(3)
