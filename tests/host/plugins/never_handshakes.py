import sys
import time

sys.stderr.write("warming up forever\n")
sys.stderr.flush()
time.sleep(600)
