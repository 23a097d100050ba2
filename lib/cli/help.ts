// What `fastify-server-push --help` prints: the command's manual, in the shape of a man page, with examples a
// user can paste. The device's ffmpeg command is written by the function that builds it, so the two never differ.
import { deviceCommand } from './cameras.js'

/** The manual, for a terminal of 80 columns. */
export function helpText (): string {
  const device = deviceCommand('/dev/video0')
  return `NAME
    fastify-server-push - serve cameras, image folders and pages as HTTP
    server push (multipart/x-mixed-replace, MJPEG)

SYNOPSIS
    fastify-server-push SOURCE [OPTIONS]
    fastify-server-push --config FILE [OPTIONS]

DESCRIPTION
    Serves one live stream per camera: what an <img> shows as video, and what
    ffmpeg, VLC, mpv and OpenCV read as MJPEG. A camera is one source given by
    the options below, or one of several named in a config file. Each camera is
    read once, whatever the number of viewers, and each viewer gets the newest
    frame its link can take.

SOURCES (one of)
    --dir PATH
        Cycle the images (or HTML pages) of a directory, in name order, one
        every --interval-ms.
    --command CMD
        Run CMD with /bin/sh while someone watches. It writes JPEGs to its
        standard output (ffmpeg: -f mjpeg -); it is started again if it exits,
        and the last lines of its errors are logged.
    --device PATH
        A V4L2 camera (a USB webcam): its own MJPEG, passed through by ffmpeg
        (which must be installed). It runs:
          ${device.join(' ')}
        For other formats or sizes, use --command.
    --relay URL
        Another server's MJPEG stream (http: or https:; a user and password in
        the URL), read once for all viewers.
    --redis URL --channel NAME
        A camera that another instance publishes to Redis. With another source
        and --publish, this instance publishes that source to the channel, and
        shows it from Redis as every instance does.
    --ingest
        Read nothing: a camera or ffmpeg POSTs its stream (multipart, or JPEGs
        one after another) to /stream, with --user and --password, or with
        --allow-anonymous-ingest.

OPTIONS
    --config FILE      Cameras and options from a JSON file (see CONFIG FILE);
                       the options given here win over the file's.
    --name NAME        The camera's name in logs, metrics and the index page.
                       Default: camera.
    --port N           Default 8080 (0: any free port, logged).
    --host ADDRESS     Default 127.0.0.1; 0.0.0.0 or :: serves other machines.
    --tls-cert FILE --tls-key FILE
                       HTTPS, with HTTP/2 and HTTP/1.1 on one port (PEM).
    --user NAME --password WORD
                       HTTP Basic authentication on every path, also for
                       publishers (--ingest). SERVER_PUSH_PASSWORD in the
                       environment keeps the password out of the process list.
    --signing-key KEY  Streams and snapshots open only by URLs signed with KEY
                       (32 bytes or more; or SERVER_PUSH_SIGNING_KEY), as
                       signUrl() signs them, and need no password then. With
                       --user, the index page signs its own; without, there is
                       no index page, and /state and /metrics are open.
    --interval-ms N    --dir: how long each file is shown. Default 1000.
    --max-fps N        At most N frames a second from each camera.
    --max-clients N    At most N viewers of each stream (503 after).
    --chunked          Chunked transfer coding on HTTP/1.1 (Python requests).
    --metrics          Prometheus metrics at /metrics (needs prom-client).
    --log-level LEVEL  fatal, error, warn, info (default), debug, trace or
                       silent. Logs are JSON lines (pino) on standard output.
    --help, --version

PATHS
    With one camera, as ustreamer and mjpg-streamer serve them:
      /stream             the stream (a POST: a publisher, with --ingest)
      /snapshot           the latest frame, one image
      /state              JSON: whether the camera is online, its viewers
      /?action=stream     the stream, as mjpg-streamer (OctoPrint, crowsnest)
      /?action=snapshot   the latest frame, as mjpg-streamer
      /                   an index page: each camera as a view that heals
    With several, the same below /NAME/ (/door/stream, /door/?action=stream),
    and /state lists them all. /metrics with --metrics.

CONFIG FILE
    {
      "port": 8080, "user": "admin", "password": "secret", "maxFps": 15,
      "cameras": [
        { "name": "door", "relay": "http://192.168.1.20/video.mjpg" },
        { "name": "desk", "device": "/dev/video0", "maxClients": 10 },
        { "name": "slides", "dir": "./slides", "intervalMs": 5000 },
        { "name": "yard", "ingest": true }
      ]
    }
    Top-level keys are the serving options, in camelCase (tlsCert, maxFps).
    A camera has a name (lower-case letters, digits, - and _), one source
    (dir, command, device, relay, redis with channel, or ingest: true or
    "anonymous"), and may have publish, intervalMs, maxFps and maxClients.

SIGNALS
    SIGTERM and SIGINT end every stream well-formed, stop the commands and
    connections, and exit 0. A second signal exits at once, with status 1.

EXIT STATUS
    0 after a signal; 1 if the server could not start (its port taken);
    2 for a wrong option or config file, said in one line on standard error.

EXAMPLES
    A folder of pictures, one every 2 s:
      npx fastify-server-push --dir ./photos --interval-ms 2000
    A USB webcam for the local network, with a password:
      npx fastify-server-push --device /dev/video0 --host 0.0.0.0 \\
        --user admin --password secret
    ffmpeg's test pattern, and a viewer:
      npx fastify-server-push --command \\
        "ffmpeg -re -f lavfi -i testsrc -f mjpeg -"
      ffplay http://127.0.0.1:8080/stream
    A camera that pushes in:
      npx fastify-server-push --ingest --user cam --password secret
      ffmpeg -re -f lavfi -i testsrc -f mpjpeg -method POST -auth_type basic \\
        http://cam:secret@127.0.0.1:8080/stream
    An IP camera for many viewers, over HTTPS and HTTP/2:
      npx fastify-server-push --relay http://192.168.1.20/video.mjpg \\
        --tls-cert cert.pem --tls-key key.pem --port 8443
`
}
