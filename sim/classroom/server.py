"""The classroom's web server: Starlette routes over one :class:`Classroom`, run by uvicorn.

Every page is the same small static app (``static/``) that reads its role's view from
``/api/view`` and re-reads it whenever the room changes: ``/api/events`` is a stream of
server-sent events carrying the room's version number. Every request carries its link's
token (the ``X-Token`` header, or ``?token=`` where a browser cannot set a header), and
every action goes through :func:`sim.classroom.roles.check`: a token that may not do
something gets HTTP 403, a request the game refuses (no round open, an action that is not
open) gets HTTP 400 with a one-line reason.

The game's work (a round, the model's outlook, the debrief's batch) runs in a worker
thread under the room's lock, so pages keep loading while the model plays.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sim.classroom.roles import (
    FACILITATOR,
    PROJECTOR,
    STUDENT,
    TEAM,
    Forbidden,
    Role,
    UnknownToken,
    check,
)
from sim.classroom.room import Classroom, NeedsConfirmation
from sim.classroom.views import view
from sim.errors import OptionsError, WargameError
from sim.seminar.debrief import DEFAULT_BATCH_RUNS, debrief

#: URL path of each role's page.
PAGES = {FACILITATOR: "facilitator", PROJECTOR: "projector", TEAM: "team", STUDENT: "students"}
#: A server-sent event stream is closed after this long (the browser reconnects), so
#: stopping the server never waits on an open page.
EVENT_STREAM_SECONDS = 20.0


def _static(name: str) -> str:
    return resources.files("sim.classroom").joinpath("static", name).read_text(encoding="utf-8")


def _token(request: Request) -> str | None:
    return request.headers.get("x-token") or request.query_params.get("token")


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, NeedsConfirmation):
        return JSONResponse({"error": str(exc), "confirm": True}, status_code=409)
    status = 403 if isinstance(exc, Forbidden | UnknownToken) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


def create_app(room: Classroom, batch_runs: int = DEFAULT_BATCH_RUNS) -> Starlette:
    """The web app serving one classroom.

    Args:
        room: The classroom.
        batch_runs: Runs of the reference batch on the debrief page.
    """
    debriefs: dict[Any, dict[str, Any]] = {}

    def role_of(request: Request) -> Role:
        return room.role(_token(request))

    async def page(request: Request) -> Response:
        try:
            role = room.role(request.path_params["token"])
        except UnknownToken as exc:
            return HTMLResponse(f"<p>{exc}.</p>", status_code=403)
        if PAGES[role.kind] != request.path_params["kind"]:
            return HTMLResponse("<p>This link is for another page.</p>", status_code=403)
        return HTMLResponse(_static("page.html"))

    async def debrief_page(request: Request) -> Response:
        try:
            check(room.role(request.path_params["token"]), "debrief")
        except (Forbidden, UnknownToken) as exc:
            return HTMLResponse(f"<p>{exc}.</p>", status_code=403)
        return HTMLResponse(_static("page.html"))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("app.js", "style.css"):
            return Response(status_code=404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return Response(_static(name), media_type=kind)

    async def api_view(request: Request) -> Response:
        try:
            role = role_of(request)
            check(role, "view")
            name = request.query_params.get("name")
            secret = request.headers.get("x-student-secret")
            data = await run_in_threadpool(view, room, role, name, secret)
        except WargameError as exc:
            return _error(exc)
        return JSONResponse(data)

    async def api_events(request: Request) -> Response:
        try:
            check(role_of(request), "view")
        except WargameError as exc:
            return _error(exc)

        async def stream() -> AsyncIterator[str]:
            sent = -1
            loop = asyncio.get_running_loop()
            end = loop.time() + EVENT_STREAM_SECONDS
            yield "retry: 1000\n\n"
            while loop.time() < end and not request.app.state.stopping:
                if room.version != sent:
                    sent = room.version
                    yield f"data: {sent}\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise OptionsError("the request body is not JSON") from None
        if not isinstance(data, dict):
            raise OptionsError("the request body must be a JSON object")
        return data

    async def api_choose(request: Request) -> Response:
        try:
            role = role_of(request)
            data = await body(request)
            actor = str(data.get("actor") or "")
            check(role, "choose", actor)
            action = data.get("action")
            await run_in_threadpool(
                room.choose, role, actor, None if action is None else str(action)
            )
        except WargameError as exc:
            return _error(exc)
        return JSONResponse({"ok": True, "version": room.version})

    async def api_decide(request: Request) -> Response:
        try:
            role = role_of(request)
            data = await body(request)
            actor = str(data.get("actor") or "")
            if not actor:
                raise OptionsError('give the "actor" whose branch it is')
            check(role, "decide", actor)
            if "outcome" not in data:
                raise OptionsError('give the "outcome" (null leaves the decision to the rule)')
            outcome = data.get("outcome")
            if outcome is not None and not isinstance(outcome, str):
                raise OptionsError('"outcome" must be the name of an outcome, or null')
            await run_in_threadpool(
                room.decide,
                role,
                actor,
                str(data.get("branch") or ""),
                None if outcome is None else str(outcome),
            )
        except WargameError as exc:
            return _error(exc)
        return JSONResponse({"ok": True, "version": room.version})

    async def api_predict(request: Request) -> Response:
        try:
            role = role_of(request)
            check(role, "predict")
            data = await body(request)
            raw = data.get("probabilities")
            if not isinstance(raw, dict):
                raise OptionsError("give each outcome's probability")
            try:
                probabilities = {str(k): float(v) for k, v in raw.items()}
            except (TypeError, ValueError):
                raise OptionsError("each probability must be a number from 0 to 1") from None
            secret = await run_in_threadpool(
                room.predict,
                role,
                str(data.get("name") or ""),
                data.get("secret"),
                str(data.get("branch") or ""),
                probabilities,
            )
        except WargameError as exc:
            return _error(exc)
        return JSONResponse({"ok": True, "secret": secret})

    async def api_register(request: Request) -> Response:
        try:
            role = role_of(request)
            check(role, "predict")
            data = await body(request)
            secret = await run_in_threadpool(
                room.register,
                role,
                str(data.get("name") or ""),
                data.get("secret"),
                data.get("previous"),
                data.get("previous_secret"),
            )
        except WargameError as exc:
            return _error(exc)
        return JSONResponse({"ok": True, "secret": secret})

    def control(role: Role, data: dict[str, Any]) -> dict[str, Any]:
        do = data.get("do")
        if do == "next":
            room.open_round(role)
        elif do == "reveal":
            room.reveal(role, ask=bool(data.get("ask")))
        elif do == "back":
            room.back(role)
        elif do == "timer":
            seconds = data.get("seconds")
            room.timer(role, None if seconds is None else float(seconds))
        elif do == "override" and "branch" in data:
            outcome = data.get("outcome")
            room.override_outcome(role, str(data["branch"]), None if not outcome else str(outcome))
        elif do == "override":
            action = data.get("action")
            room.override(role, str(data.get("actor")), None if not action else str(action))
        elif do == "save":
            path = room.save(role, data.get("name") or None, bool(data.get("overwrite")))
            return {"saved": path.name}
        elif do == "fork":
            return {"saved": room.fork(role, str(data.get("name") or "")).name}
        elif do == "load":
            room.load(role, str(data.get("name") or ""))
        elif do == "end":
            room.end(role)
        else:
            raise OptionsError(f"no control '{do}'")
        return {}

    async def api_control(request: Request) -> Response:
        try:
            role = role_of(request)
            data = await body(request)
            extra = await run_in_threadpool(control, role, data)
        except WargameError as exc:
            return _error(exc)
        except (TypeError, ValueError) as exc:
            return _error(OptionsError(f"bad request: {exc}"))
        return JSONResponse({"ok": True, "version": room.version, **extra})

    async def api_export(request: Request) -> Response:
        try:
            text = await run_in_threadpool(room.export_csv, role_of(request))
        except WargameError as exc:
            return _error(exc)
        name = f"{room.game.compiled.id}-predictions.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(text, media_type="text/csv", headers=headers)

    def make_debrief() -> dict[str, Any]:
        with room.lock:
            game = room.game
            key = (id(game), game.round, tuple(sorted(game.choices.items())))
            if key not in debriefs:
                debriefs.clear()
                debriefs[key] = debrief(game, batch_runs, room.continuations)
            data = dict(debriefs[key])
            data["leaderboard"] = room.leaderboard()
            if not game.finished:
                # Mid-game the debrief would spoil the game: the hidden parameter values
                # and how each actor's payoff ranks are withheld until it is over.
                # So are the seed and run: with them, anyone could replay the game.
                data["params"] = []
                data["payoffs"] = []
                data["seed"] = None
                data["run"] = None
                data["withheld"] = (
                    "The hidden parameter values, the payoffs against the batch and the "
                    "game's seed are shown once the game is over (or the facilitator ends it)."
                )
            return data

    async def api_debrief(request: Request) -> Response:
        try:
            check(role_of(request), "debrief")
            data = await run_in_threadpool(make_debrief)
        except WargameError as exc:
            return _error(exc)
        return JSONResponse(data)

    async def landing(request: Request) -> Response:
        return HTMLResponse(
            "<!DOCTYPE html><meta charset=utf-8><title>wargame classroom</title>"
            "<p>Open the link your facilitator gave you.</p>"
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def timer() -> None:
            while True:
                await asyncio.sleep(0.25)
                with contextlib.suppress(WargameError):
                    await run_in_threadpool(room.tick)

        task = asyncio.create_task(timer())
        try:
            yield
        finally:
            task.cancel()

    posted = {"choose", "decide", "predict", "register", "control"}

    async def api_other(request: Request) -> Response:
        # A known endpoint asked with the wrong method, or no endpoint: a JSON answer
        # rather than the page route's "not one of this classroom's links".
        name = request.path_params["name"]
        if name in posted:
            return JSONResponse({"error": f"/api/{name} takes a POST"}, status_code=405)
        return JSONResponse({"error": f"no /api/{name}"}, status_code=404)

    async def favicon(_request: Request) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/", landing),
        Route("/favicon.ico", favicon),
        Route("/static/{name}", asset),
        Route("/debrief/{token}", debrief_page),
        Route("/api/view", api_view),
        Route("/api/events", api_events),
        Route("/api/choose", api_choose, methods=["POST"]),
        Route("/api/decide", api_decide, methods=["POST"]),
        Route("/api/predict", api_predict, methods=["POST"]),
        Route("/api/register", api_register, methods=["POST"]),
        Route("/api/control", api_control, methods=["POST"]),
        Route("/api/export.csv", api_export),
        Route("/api/debrief", api_debrief),
        Route("/api/{name}", api_other, methods=["GET", "POST"]),
        Route("/{kind}/{token}", page),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    # Set when the server is asked to stop: the pages' event streams end at once, so
    # uvicorn's graceful shutdown does not wait for them and then cancel each with a
    # traceback on the lecturer's terminal.
    app.state.stopping = False
    return app


def qr_text(text: str) -> str:
    """A QR code of ``text`` drawn with block characters, for a terminal."""
    import io

    import segno

    out = io.StringIO()
    segno.make(text, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def open_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: any free port).

    Raises:
        OptionsError: If the address cannot be bound (in use, or not this machine's).
    """
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise OptionsError(f"--host {host}: {exc.strerror}") from None
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
    except OSError as exc:
        sock.close()
        raise OptionsError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    return sock


def reachable_host(host: str) -> str:
    """The host name to put in links: the machine's address when bound to all of them."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if not address.startswith("127."):
                return address
    return socket.gethostname()


def links(room: Classroom, base: str) -> dict[str, str]:
    """Every link of the classroom: facilitator, projector, students, one per team."""
    tokens = room.tokens
    found = {
        "facilitator": f"{base}/facilitator/{tokens.facilitator}",
        "projector": f"{base}/projector/{tokens.projector}",
        "students": f"{base}/students/{tokens.student}",
    }
    for actor, token in tokens.teams.items():
        found[f"team {actor}"] = f"{base}/team/{token}"
    # The projector's token: the debrief page is shown to the room.
    found["debrief"] = f"{base}/debrief/{tokens.projector}"
    return found


def run(
    room: Classroom,
    sock: socket.socket,
    batch_runs: int = DEFAULT_BATCH_RUNS,
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve the classroom on an open socket until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    app = create_app(room, batch_runs)
    config = uvicorn.Config(
        app,
        log_level="warning",
        timeout_graceful_shutdown=2,
        lifespan="on",
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.stopping = True
            super().handle_exit(sig, frame)

    server = Server(config)
    if ready is not None:
        ready()
    server.run(sockets=[sock])


def save_dir_of(path: str | None) -> Path:
    """The folder saves go to: the resumed file's folder, else the working directory."""
    return Path(path).resolve().parent if path else Path.cwd()
