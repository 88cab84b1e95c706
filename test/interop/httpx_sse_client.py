"""An httpx-sse subscriber written the way its README suggests, plus the reconnect loop
our docs recommend (httpx-sse does not reconnect by itself).

    python httpx_sse_client.py URL COUNT [TIMEOUT_S]

Prints one JSON line per event it dispatches ({"event", "data", "id"}), and ends with a
JSON line {"done": true, "connections": N}. Exits 0 once COUNT `message` events arrived,
1 on timeout.
"""

import json
import sys
import time

import httpx
from httpx_sse import connect_sse


def main() -> int:
    url = sys.argv[1]
    count = int(sys.argv[2])
    deadline = time.monotonic() + float(sys.argv[3] if len(sys.argv) > 3 else 20)
    last_id = None
    received = 0
    connections = 0
    with httpx.Client(timeout=httpx.Timeout(10.0)) as client:
        while received < count and time.monotonic() < deadline:
            headers = {"Last-Event-ID": last_id} if last_id is not None else {}
            connections += 1
            try:
                with connect_sse(client, "GET", url, headers=headers) as source:
                    source.response.raise_for_status()
                    for sse in source.iter_sse():
                        # Only a whole event is ever dispatched, so its id is safe to keep.
                        last_id = sse.id
                        line = {"event": sse.event, "data": sse.data, "id": sse.id}
                        print(json.dumps(line), flush=True)
                        # stream.open and stream.reset are the stream's own notices.
                        if sse.event == "message":
                            received += 1
                        if received >= count:
                            break
            except httpx.TransportError:
                pass  # a dropped connection: resume from last_id
            time.sleep(0.01)
    print(json.dumps({"done": True, "connections": connections}), flush=True)
    return 0 if received >= count else 1


if __name__ == "__main__":
    sys.exit(main())
