"""The web explorer's ASGI application: one page and a JSON API over a trained model.

Built on FastAPI (on Starlette, served by uvicorn): request bodies are pydantic models, the
validation moldojo's configs already use, so a field out of its limits is answered with a JSON
error naming it, and a route is one typed function. Every route answers JSON; every error is
``{"error": "<one line>"}`` with its status (400 bad input, 404 unknown job, 409 an optimisation
of this client is running, 413 body too large, 422 a field out of its limits, 503 busy, 504 time
limit), never a 500 for input.

The model is shared: every call into it (encode, decode) takes one lock, in a worker thread,
so that page requests and running optimisations interleave call by call. At most
``Limits.queue`` model requests wait at once (more are answered 503 at once), and a request
waits at most ``Limits.seconds`` (then 504; its work finishes in the background). Optimisations
run in their own threads, one per client and ``Limits.jobs`` in all, each cancellable, their
rounds streamed to the page as server-sent events. The page's three files are read from the
package once and served from memory: no path from a request reaches the disk.

Sits above the search and evaluation layers; imports FastAPI, RDKit and moldojo's model,
search and picture modules; never the CLI.
"""

import asyncio
import base64
import io
import json
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem
from rdkit.Chem import QED, Crippen

from moldojo._json import finite
from moldojo._version import __version__
from moldojo.chem.motifs import decompose
from moldojo.chem.properties import sa_score
from moldojo.chem.scaffold import keeps_scaffold, parse_scaffold
from moldojo.chem.smiles import parse_smiles, quiet_rdkit
from moldojo.errors import MoldojoError
from moldojo.evaluation.plots import draw_motif_tree, format_tree
from moldojo.models.generator import Generator
from moldojo.search import interpolate, neighbours, optimize, tanimoto
from moldojo.search.objectives import BUILTIN_OBJECTIVES, make_objective
from moldojo.search.optimize import METHODS, Proposal, running_best, top_molecules

__all__ = ["Limits", "create_app"]

_PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
_DRAWING = (200, 160)  # pixels of a molecule's SVG
_TOP = 5  # molecules of an optimisation shown while it runs


@dataclass(frozen=True)
class Limits:
    """What one request may ask for.

    Attributes:
        smiles_chars: longest SMILES accepted.
        sample_n: most molecules per sample.
        steps: most interpolation steps.
        neighbours_n: most neighbours.
        budget: largest optimisation budget.
        batch: largest optimisation batch.
        seconds: longest a request waits for its answer (504 after).
        queue: most model requests waiting at once (503 beyond).
        body_bytes: largest request body (413 beyond).
        jobs: most optimisations running at once, all clients together.
        job_seconds: longest an optimisation runs before it is stopped.
    """

    smiles_chars: int = 500
    sample_n: int = 200
    steps: int = 20
    neighbours_n: int = 100
    budget: int = 2000
    batch: int = 50
    seconds: float = 60.0
    queue: int = 16
    body_bytes: int = 20_000
    jobs: int = 4
    job_seconds: float = 900.0


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- the model, shared --------------------------------------------------------------------------


class _LockedModel:
    """The generator with every call into its network under one lock (other attributes as
    they are): page requests and optimisation threads take turns call by call."""

    def __init__(self, model: Generator) -> None:
        self._model = model
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def _locked(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return getattr(self._model, name)(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> Any:
        return self._locked("decode", *args, **kwargs)

    def encode_with_reasons(self, *args: Any, **kwargs: Any) -> Any:
        return self._locked("encode_with_reasons", *args, **kwargs)

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        return self._locked("encode", *args, **kwargs)

    def sample(self, *args: Any, **kwargs: Any) -> Any:
        return self._locked("sample", *args, **kwargs)


class _Gate:
    """Runs request work in worker threads: at most ``queue`` at once, each awaited at most
    ``seconds``."""

    def __init__(self, queue: int, seconds: float) -> None:
        self.queue = queue
        self.seconds = seconds
        self._pending = 0
        self._count = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=queue, thread_name_prefix="moldojo-serve")

    async def run(self, work: Callable[[], Any]) -> Any:
        with self._count:
            if self._pending >= self.queue:
                raise ApiError(503, f"the server is busy ({self._pending} requests in hand); "
                                    "try again in a moment")  # fmt: skip
            self._pending += 1

        def task() -> Any:
            try:
                return work()
            finally:
                with self._count:
                    self._pending -= 1

        future = asyncio.get_running_loop().run_in_executor(self._executor, task)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.seconds)
        except TimeoutError:
            raise ApiError(504, f"the request took longer than {self.seconds:g} s") from None


# -- molecules as JSON --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _svg(smiles: str) -> str | None:
    from rdkit.Chem.Draw import rdMolDraw2D

    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DSVG(*_DRAWING)
    drawer.drawOptions().clearBackground = False
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


@lru_cache(maxsize=4096)
def _properties(smiles: str) -> tuple[float, float, float] | None:
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    return float(QED.qed(mol)), float(Crippen.MolLogP(mol)), float(sa_score(mol))


def _number(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def molecule(smiles: str | None, reason: str | None = None) -> dict[str, Any]:
    """One molecule as the page shows it: SMILES, validity, QED, logP, SA and a drawing."""
    props = _properties(smiles) if smiles else None
    if props is None:
        return {"smiles": smiles, "valid": False, "reason": reason or "invalid", "qed": None,
                "logp": None, "sa": None, "svg": None}  # fmt: skip
    qed, logp, sa = props
    return {"smiles": smiles, "valid": True, "reason": None, "qed": _number(qed),
            "logp": _number(logp), "sa": _number(sa), "svg": _svg(smiles)}  # fmt: skip


# -- requests -------------------------------------------------------------------------------------


def _requests(limits: Limits) -> dict[str, type[BaseModel]]:
    """The request bodies, their bounds from ``limits``."""
    Smiles = Annotated[str, Field(min_length=1, max_length=limits.smiles_chars)]
    Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
    strict = ConfigDict(extra="forbid")

    class SampleRequest(BaseModel):
        model_config = strict
        n: Annotated[int, Field(ge=1, le=limits.sample_n)] = 24
        seed: Seed = 0
        temperature: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = 0.0
        scaffold: Smiles | None = None

    class InterpolateRequest(BaseModel):
        model_config = strict
        a: Smiles
        b: Smiles
        steps: Annotated[int, Field(ge=1, le=limits.steps)] = 6
        path: Literal["linear", "slerp"] = "linear"

    class NeighboursRequest(BaseModel):
        model_config = strict
        smiles: Smiles
        n: Annotated[int, Field(ge=1, le=limits.neighbours_n)] = 12
        radius: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = 0.5
        seed: Seed = 0

    class MotifsRequest(BaseModel):
        model_config = strict
        smiles: Smiles

    class OptimizeRequest(BaseModel):
        model_config = strict
        objective: Annotated[str, Field(min_length=1, max_length=limits.smiles_chars + 20)]
        method: Literal["bo", "cmaes", "ga", "random"] = "cmaes"
        budget: Annotated[int, Field(ge=1, le=limits.budget)] = 100
        batch: Annotated[int, Field(ge=1, le=limits.batch)] = 10
        seed: Seed = 0
        start: Smiles | None = None
        min_similarity: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None

    return {"sample": SampleRequest, "interpolate": InterpolateRequest,
            "neighbours": NeighboursRequest, "motifs": MotifsRequest,
            "optimize": OptimizeRequest}  # fmt: skip


# -- optimisation jobs ------------------------------------------------------------------------


class _Job:
    """One optimisation running in its own thread; its rounds are read by the event stream."""

    def __init__(self, client: str, budget: int) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.client = client
        self.budget = budget
        self.cancel = threading.Event()
        self.rounds: list[dict[str, Any]] = []
        self.done: dict[str, Any] | None = None
        self.began = time.monotonic()

    def on_round(self, proposals: Sequence[Proposal], limit: float) -> bool:
        so_far = running_best(p.score if p.status == "ok" else math.nan for p in proposals)
        top = top_molecules(proposals, _TOP)
        self.rounds.append({
            "calls": len(proposals), "budget": self.budget,
            "best": [_number(v) for v in so_far],
            "top": [{**molecule(s), "score": _number(v)} for s, v in top],
        })  # fmt: skip
        return self.cancel.is_set() or time.monotonic() - self.began > limit


class _Jobs:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.jobs: dict[str, _Job] = {}
        self.lock = threading.Lock()

    def start(self, client: str, budget: int) -> _Job:
        with self.lock:
            running = [j for j in self.jobs.values() if j.done is None]
            if any(j.client == client for j in running):
                raise ApiError(409, "an optimisation of yours is running; cancel it or wait for "
                                    "it to finish")  # fmt: skip
            if len(running) >= self.limits.jobs:
                raise ApiError(503, f"{len(running)} optimisations are running; try again later")
            finished = [k for k, j in self.jobs.items() if j.done is not None]
            for k in finished[: max(0, len(self.jobs) - 64)]:  # keep the last ones readable
                del self.jobs[k]
            job = _Job(client, budget)
            self.jobs[job.id] = job
            return job

    def get(self, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "no such optimisation")
        return job


# -- the application ---------------------------------------------------------------------------


def _page_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("moldojo.serve") / "static"
    return {route: ((folder / name).read_bytes(), media) for route, (name, media)
            in _PAGE_FILES.items()}  # fmt: skip


def _smiles_error(error: Exception) -> ApiError:
    return ApiError(400, str(error).splitlines()[0] if str(error) else type(error).__name__)


def create_app(model: Generator, *, name: str = "", limits: Limits | None = None) -> FastAPI:
    """The explorer of ``model`` (``name`` says which model in the page's header)."""
    limits = limits or Limits()
    shared = _LockedModel(model)
    gate = _Gate(limits.queue, limits.seconds)
    jobs = _Jobs(limits)
    bodies = _requests(limits)
    SampleBody, InterpolateBody, NeighboursBody, MotifsBody, OptimizeBody = (  # noqa: N806
        bodies[k] for k in ("sample", "interpolate", "neighbours", "motifs", "optimize")
    )
    pages = _page_files()
    can_scaffold = model.supports_scaffold
    vocabulary = getattr(model, "tables", None)  # motif tables support `(motif, config) in`
    app = FastAPI(title="moldojo", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse({"error": error.message}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = first.get("msg", "invalid request")
        return JSONResponse({"error": f"{where}: {message}"}, status_code=422)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable) -> Response:
        length = request.headers.get("content-length")
        too_large = f"the request body is over {limits.body_bytes:,} bytes"
        if length is not None and (not length.isdigit() or int(length) > limits.body_bytes):
            return JSONResponse({"error": too_large}, status_code=413)
        if request.method == "POST" and length is None:
            body = await request.body()
            if len(body) > limits.body_bytes:
                return JSONResponse({"error": too_large}, status_code=413)
        return await call_next(request)

    for route in pages:

        def page(route: str = route) -> Response:
            content, media = pages[route]
            return Response(content, media_type=media, headers={"Cache-Control": "no-cache"})

        app.get(route, include_in_schema=False)(page)

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        return {
            "kind": model.kind, "model": name or model.kind, "latent_dim": model.latent_dim,
            "version": __version__, "scaffold": can_scaffold,
            "objectives": [*BUILTIN_OBJECTIVES, "similarity:SMILES"], "methods": list(METHODS),
            "limits": {"smiles_chars": limits.smiles_chars, "sample_n": limits.sample_n,
                       "steps": limits.steps, "neighbours_n": limits.neighbours_n,
                       "budget": limits.budget, "batch": limits.batch},
        }  # fmt: skip

    @app.post("/api/sample")
    async def sample(body: SampleBody) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            try:
                scaffold = None
                if body.scaffold is not None:
                    scaffold = parse_scaffold(body.scaffold, model.graph_config)
                generator = torch.Generator().manual_seed(body.seed)
                decoded = shared.sample(body.n, generator=generator, temperature=body.temperature,
                                        scaffold=body.scaffold)  # fmt: skip
            except MoldojoError as error:
                raise _smiles_error(error) from error
            valid = [s for s in decoded if s]
            kept = sum(keeps_scaffold(valid, scaffold)) if scaffold is not None else None
            rows = [molecule(s, r) for s, r in zip(decoded, decoded.reasons, strict=True)]
            return {"molecules": rows, "valid": len(valid), "unique": len(set(valid)),
                    "scaffold_kept": kept}  # fmt: skip

        return await gate.run(work)

    @app.post("/api/interpolate")
    async def interpolate_(body: InterpolateBody) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            try:
                path = interpolate(shared, body.a, body.b, body.steps, path=body.path)
            except MoldojoError as error:
                raise _smiles_error(error) from error
            ends = path.smiles[0], path.smiles[-1]
            steps = []
            for t, s, r in zip(path.t.tolist(), path.smiles, path.reasons, strict=True):
                steps.append({**molecule(s, r), "t": round(t, 4),
                              "sim_a": _number(tanimoto(s, ends[0]), 3),
                              "sim_b": _number(tanimoto(s, ends[1]), 3)})  # fmt: skip
            return {"steps": steps, "changes": path.changes,
                    "mean_similarity": _number(path.mean_similarity, 3)}  # fmt: skip

        return await gate.run(work)

    @app.post("/api/neighbours")
    async def neighbours_(body: NeighboursBody) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            try:
                near = neighbours(shared, body.smiles, body.n, radius=body.radius,
                                  generator=torch.Generator().manual_seed(body.seed))  # fmt: skip
            except MoldojoError as error:
                raise _smiles_error(error) from error
            rows = [{**molecule(s, r), "similarity": _number(v, 3)}
                    for s, r, v in zip(near.smiles, near.reasons, near.similarities,
                                       strict=True)]  # fmt: skip
            query = Chem.MolToSmiles(parse_smiles(body.smiles, model.graph_config))
            return {"query": molecule(query), "neighbours": rows, "valid": near.valid,
                    "unique": near.unique}  # fmt: skip

        return await gate.run(work)

    @app.post("/api/motifs")
    async def motifs(body: MotifsBody) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            try:
                mol = parse_smiles(body.smiles, model.graph_config)
                tree = decompose(mol, vocabulary)  # the hierarchical model's, as it cuts molecules
            except MoldojoError as error:
                raise _smiles_error(error) from error
            buffer = io.BytesIO()
            draw_motif_tree(mol, tree).save(buffer, format="PNG")
            return {"png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                    "tree": format_tree(tree)}  # fmt: skip

        return await gate.run(work)

    @app.post("/api/optimize")
    async def start_optimize(request: Request, body: OptimizeBody) -> dict[str, str]:
        if body.objective.strip().lower().startswith("python:"):
            raise ApiError(400, "python: objectives run code on the server; use "
                                "`moldojo optimize` on the command line for them")  # fmt: skip
        try:
            objective = make_objective(body.objective)
        except MoldojoError as error:
            raise _smiles_error(error) from error
        if body.min_similarity is not None and body.start is None:
            raise ApiError(400, "min_similarity needs a start molecule")
        if body.start is not None:  # an unencodable start is a 400 now, not an error event later
            reason = (await gate.run(lambda: shared.encode_with_reasons([body.start]))).reasons[0]
            if reason is not None:
                raise ApiError(400, f"cannot encode the start molecule: {reason}")
        client = request.client.host if request.client else "?"
        job = jobs.start(client, body.budget)

        limit = limits.job_seconds

        def run() -> None:
            status, message, summary = "done", None, None
            try:
                result = optimize(shared, objective, method=body.method, budget=body.budget,
                                  batch=body.batch, start=body.start,
                                  min_similarity=body.min_similarity, seed=body.seed,
                                  callback=lambda p: job.on_round(p, limit))  # fmt: skip
                summary = result.summary()
                if result.cancelled:
                    status = "cancelled"
                    if not job.cancel.is_set():
                        message = f"stopped after {limits.job_seconds:g} s"
            except (MoldojoError, ValueError) as error:
                status, message = "error", str(error).splitlines()[0]
            except Exception as error:  # the thread must always say it is done
                status, message = "error", f"{type(error).__name__}: {error}"
            job.done = {"status": status, "message": message,
                        "summary": finite(summary)}  # fmt: skip

        threading.Thread(target=run, name=f"moldojo-optimize-{job.id}", daemon=True).start()
        return {"job": job.id}

    @app.get("/api/optimize/{job_id}/events")
    async def events(job_id: str, request: Request) -> StreamingResponse:
        job = jobs.get(job_id)

        async def stream() -> AsyncIterator[str]:
            sent = 0
            while True:
                while sent < len(job.rounds):
                    yield f"event: round\ndata: {json.dumps(job.rounds[sent])}\n\n"
                    sent += 1
                if job.done is not None and sent == len(job.rounds):
                    yield f"event: done\ndata: {json.dumps(job.done)}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})  # fmt: skip

    @app.post("/api/optimize/{job_id}/cancel")
    def cancel(job_id: str) -> dict[str, str]:
        job = jobs.get(job_id)
        job.cancel.set()
        return {"status": "cancelling" if job.done is None else job.done["status"]}

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def unknown(rest: str) -> None:
        raise ApiError(404, "no such endpoint")

    return app
