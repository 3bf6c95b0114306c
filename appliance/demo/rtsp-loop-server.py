#!/usr/bin/python3
"""A real RTSP server (GStreamer gst-rtsp-server, Debian's python3-gi) playing a real .mp4 clip in a loop.

Used by `make run` (the demo camera) and by the tests. Binds 127.0.0.1 unless --host says otherwise.
Prints "READY rtsp://host:port/path" on stdout once it listens.

Looping: at start, ffmpeg remuxes (no re-encode) the clip --loops times into one temporary file with
monotonic timestamps, which the server plays like a long recording; when it ends, clients get
end-of-stream and reconnect, as they do when a real camera drops. (A segment seek inside
gst-rtsp-server is overridden by the server's own seek on PLAY, and a live UDP feed delays clients'
stream probing by ~14 s, so neither was kept.)
Usage: rtsp-loop-server.py --clip FILE [--loops 20] [--port 8554] [--path /cam] [--host 127.0.0.1]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def looped_copy(clip, loops, workdir):
    if loops <= 1:
        return clip
    out = os.path.join(workdir, "looped.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-stream_loop", str(loops - 1), "-i", clip,
         "-an", "-c:v", "copy", "-movflags", "+faststart", "-y", out],
        check=True,
    )
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", required=True)
    ap.add_argument("--loops", type=int, default=20)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--path", default="/cam")
    a = ap.parse_args()
    if not os.path.isfile(a.clip):
        print(f"ERROR clip not found: {a.clip}", file=sys.stderr, flush=True)
        sys.exit(2)
    workdir = tempfile.mkdtemp(prefix="roadside-rtsp-")
    try:
        source = looped_copy(a.clip, a.loops, workdir)
        Gst.init(None)
        factory = GstRtspServer.RTSPMediaFactory()
        # One pipeline per client, each from the first (key)frame, like a camera's fresh session.
        factory.set_shared(False)
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
        factory.set_launch(
            f'( filesrc location="{source}" ! qtdemux ! h264parse config-interval=-1 '
            "! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        server = GstRtspServer.RTSPServer()
        server.set_address(a.host)
        server.set_service(str(a.port))
        server.get_mount_points().add_factory(a.path, factory)
        if server.attach(None) == 0:
            print(f"ERROR cannot listen on {a.host}:{a.port}", file=sys.stderr, flush=True)
            sys.exit(2)
        loop = GLib.MainLoop()
        signal.signal(signal.SIGTERM, lambda *_: loop.quit())
        signal.signal(signal.SIGINT, lambda *_: loop.quit())
        print(f"READY rtsp://{a.host}:{server.get_bound_port()}{a.path}", flush=True)
        loop.run()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
