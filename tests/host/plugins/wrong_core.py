import time

print("2|1|unix|/tmp/nowhere.sock|grpc", flush=True)
time.sleep(600)
