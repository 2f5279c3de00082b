"""The FastAPI app: a JSON API (described by OpenAPI at ``/openapi.json``) and pages on top.

A thin edge: every route checks its input, asks ``politburo.web.questions`` for a plan (a cache
key and the work), submits it to ``politburo.web.jobs`` and returns the job; pages render the
same results with Jinja2 templates. Long work never holds a request: the API answers with a job
to poll, a page with a progress bar that ``static/app.js`` keeps up to date.

Offline by design: every asset is served by the app, FastAPI's documentation pages (which load
scripts from a CDN) are off, and every response carries a Content-Security-Policy that forbids
any other origin. Mistakes get a 4xx with a message in words; anything unexpected a plain 500
page, never a traceback.
"""


import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from politburo._version import __version__
from politburo.dates import format_month, month_name, parse_month
from politburo.scenario.loader import DEFAULT, ScenarioError, load_scenario
from politburo.scenario.schema import Bodies, Scenario
from politburo.web import essay as essay_mod
from politburo.web import narrative
from politburo.web import questions as q
from politburo.web.compute import Engine
from politburo.web.jobs import Busy, Job, Jobs, UserError

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
log = logging.getLogger("politburo.web")


def step_words(bodies: Bodies) -> dict[str, str]:
    """What befell a leader at each step of the ladder, in the scenario's names of its bodies."""
    return {"office": "lost an office", "politburo": f"was removed from the {bodies.leadership}",
            "central_committee": f"was expelled from the {bodies.committee}",
            "party": "was expelled from the party", "exile": "was sent into internal exile",
            "deportation": "was deported abroad"}


def rise_words(bodies: Bodies) -> dict[str, str]:
    """What a leader regained or gained at each step a milestone can rise to."""
    return {"office": "gained an office", "politburo": f"returned to the {bodies.leadership}",
            "central_committee": f"returned to the {bodies.committee}",
            "party": "was readmitted to the party"}


def event_namer(s: Scenario) -> Callable[[dict[str, Any]], str]:
    """'Lev Kamenev was removed from the Politburo (demoted from full to candidate member)' for
    a row of the fit (its actor, step and direction), with the milestone's note where it has
    one: the page is read by a class, and an id such as ``kamenev_demoted`` is not a sentence."""
    name, notes = _namer(s), {m.id: m.note for m in s.milestones}
    words = {"fall": step_words(s.bodies), "rise": rise_words(s.bodies)}

    def label(row: dict[str, Any]) -> str:
        said = words.get(str(row.get("direction") or "fall"), words["fall"])
        step = str(row.get("step"))
        text = f"{name(str(row.get('actor')))} {said.get(step, step.replace('_', ' '))}"
        note = notes.get(str(row.get("id")), "")
        return f"{text} ({note})" if note else text
    return label


Mode = Literal["ex-ante", "counterfactual"]
Tier = Literal["main", "contributing", "minor"]
LeverValue = str | float | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class JobOut(BaseModel):
    """A job: its status and progress; ``result`` once it is done, ``error`` if it failed."""

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    progress: float
    error: str | None
    cached: bool
    result: dict[str, Any] | None = None


class Problem(BaseModel):
    """A request the server cannot answer as asked, in words."""

    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the request cannot be answered as asked"},
    422: {"model": Problem, "description": "the request does not match the schema"},
    429: {"model": Problem, "description": "the server is busy; retry after Retry-After s"},
}


def _finite(x: Any) -> Any:
    """JSON has no NaN or infinity: such numbers become null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def create_app(scenario: str | Scenario = DEFAULT, *, workers: int = 2,
               max_jobs: int = 2, queue_limit: int = 32, limits: q.Limits | None = None,
               warm: bool = True, chunk: int = 2000,
               executor: Executor | None = None,
               on_ready: Callable[[], None] | None = None) -> FastAPI:
    """The app for one scenario.

    ``workers``: simulation processes; ``max_jobs``: jobs run at once; ``queue_limit``: jobs
    queued or running before requests get 429; ``limits``: the most histories a request may
    ask for; ``warm``: start the workers when the server starts rather than on first use;
    ``executor``: run the histories there (a Dask cluster's) instead of in the app's own
    processes (the caller keeps and closes it); ``on_ready``: called once the server starts
    taking requests (after the workers are warm), so the address is shown when it works.
    """
    try:
        s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    except ScenarioError:
        raise
    lim = limits or q.Limits()
    engine = Engine(s, workers=workers, chunk=chunk, executor=executor)
    jobs = Jobs(max_jobs=max_jobs, queue_limit=queue_limit)
    leaders = [{"id": p.id, "name": p.name} for p in s.principals]
    called = {p.id: p.called for p in s.principals}
    # Whose chance the weights and the essay pages weigh unless asked: the scenario's question.
    default_target = s.question.leader or s.principals[0].id
    lever_rows = q.levers_info(engine)
    titles = {r["id"]: r["title"] for r in lever_rows}
    bib = {b["id"]: b for b in q.sources_info(engine)}

    odds_runs = whatif_runs = min(4000, lim.max_runs)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            engine.warm()
            # The world every what-if of a lesson is paired with, and the odds page shows:
            # simulated once, now, so a student's first what-if only runs its own world.
            submit(q.plan_odds(engine, lim, runs=odds_runs, seed=1))
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            jobs.shutdown()
            engine.shutdown()

    app = FastAPI(title="politburo", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description=f"Calibrated Monte Carlo histories of {s.title}"
                              f"{' (' + s.question.headline + ')' if s.question.headline else ''}"
                              ": odds, what-ifs, weights of factors, histories.")
    app.state.engine, app.state.jobs, app.state.limits = engine, jobs, lim
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["pct"] = _pct
    env.filters["signed"] = _signed
    env.globals.update(leaders=leaders, levers=lever_rows, bib=bib, scenario=s,
                       version=__version__, limits=lim, name_of=_namer(s),
                       event_of=event_namer(s),
                       max_weighed=q.MAX_WEIGHED, step_words=step_words(s.bodies),
                       start_month=_month_words(s.start), end_month=_month_words(s.end),
                       where_examples=_where_examples(s))
    templates = Jinja2Templates(env=env)

    # -- headers and errors -------------------------------------------------------------------

    @app.middleware("http")
    async def security_headers(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"

    def problem(request: Request, status: int, message: str,
                headers: dict[str, str] | None = None) -> Response:
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=status, headers=headers)
        return templates.TemplateResponse(request, "error.html",
                                          {"status": status, "message": message, "page": ""},
                                          status_code=status, headers=headers)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        return problem(request, 400, str(exc))

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        return problem(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query"))
            parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
        message = "; ".join(parts) or "the request is not valid"
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=422)
        return problem(request, 400, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and not is_api(request):
            message = "There is no page here. Try the links at the top."
        return problem(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return problem(request, 500, "Something went wrong on the server. The teacher can "
                                     "find the details in the server's log.")

    # -- the API ------------------------------------------------------------------------------

    class OddsIn(_Strict):
        runs: int = Field(min(4000, lim.max_runs), ge=1, le=lim.max_runs, description="histories")
        seed: int = Field(1, ge=0, le=lim.max_seed)

    class WhatIfIn(_Strict):
        levers: dict[str, LeverValue] = Field(
            description="lever id -> value (null for a switch or the lever's default)")
        runs: int = Field(min(4000, lim.max_runs), ge=1, le=lim.max_runs,
                          description="paired histories")
        seed: int = Field(1, ge=0, le=lim.max_seed)
        mode: Mode = "ex-ante"

    class ExplainIn(_Strict):
        levers: list[str] = Field(min_length=1, max_length=q.MAX_WEIGHED)
        target: str = default_target
        runs: int = Field(min(300, lim.max_explain_runs), ge=1, le=lim.max_explain_runs,
                          description="histories per world")
        seed: int = Field(1, ge=0, le=lim.max_seed)
        mode: Mode = "ex-ante"

    class FitIn(_Strict):
        runs: int = Field(min(1000, lim.max_fit_runs), ge=1, le=lim.max_fit_runs)
        seed: int = Field(1, ge=0, le=lim.max_seed)

    class ChronicleIn(_Strict):
        levers: dict[str, LeverValue] = Field(default_factory=dict)
        seed: int = Field(1, ge=0, le=lim.max_seed)
        history: int | None = Field(None, ge=0, le=10**9 - 1)
        where: str | None = Field(None, max_length=500,
                                  description="a condition such as 'winner == ID'")
        search: int = Field(min(2000, lim.max_runs), ge=1, le=lim.max_runs,
                            description="histories searched")

    class EssayIn(_Strict):
        ranks: dict[str, Tier] = Field(description="lever id -> main, contributing or minor")
        target: str = default_target
        runs: int = Field(min(300, lim.max_explain_runs), ge=1, le=lim.max_explain_runs)
        seed: int = Field(1, ge=0, le=lim.max_seed)

    def job_out(job: Job) -> JobOut:
        d = job.to_dict()
        result = job.result if job.status == "done" else None
        return JobOut(**d, result=_finite(result) if result is not None else None)

    def submit(plan: q.Plan) -> Job:
        return jobs.submit(plan.key, plan.kind, plan.work)

    def essay_plan(ranks: dict[str, str], target: str, runs: int, seed: int) -> q.Plan:
        if not ranks:
            raise UserError("rank at least one factor your essay names")
        plan = q.plan_explain(engine, lim, levers=list(ranks), target=target, runs=runs,
                              seed=seed, mode="ex-ante")
        inner = plan.work

        def work(progress: q.Progress) -> dict[str, Any]:
            out = inner(progress)
            out["comparison"] = essay_mod.compare(ranks, out, titles, called.get(target, target))
            return out

        from politburo.web.jobs import cache_key

        return q.Plan(cache_key(essay=plan.key, ranks=ranks), "essay", work)

    @app.get("/api/scenario", tags=["scenario"])
    def api_scenario() -> dict[str, Any]:
        """The scenario: leaders, levers (with sources and essay claims), sources, limits."""
        return {"id": s.id, "title": s.title, "start": s.start, "end": s.end,
                "leaders": leaders, "levers": lever_rows, "sources": list(bib.values()),
                "milestones": [m.model_dump() for m in s.milestones],
                "limits": {"max_runs": lim.max_runs, "max_explain_runs": lim.max_explain_runs,
                           "max_fit_runs": lim.max_fit_runs, "max_weighed": q.MAX_WEIGHED}}

    @app.post("/api/odds", tags=["jobs"], responses=ERRORS, status_code=202)
    def api_odds(body: OddsIn) -> JobOut:
        """Who comes to rule, and when each leader falls: start (or reuse) a job."""
        return job_out(submit(q.plan_odds(engine, lim, runs=body.runs, seed=body.seed)))

    @app.post("/api/whatif", tags=["jobs"], responses=ERRORS, status_code=202)
    def api_whatif(body: WhatIfIn) -> JobOut:
        """Paired worlds with and without the levers: odds, difference, flipped histories."""
        return job_out(submit(q.plan_whatif(engine, lim, levers=body.levers, runs=body.runs,
                                            seed=body.seed, mode=body.mode)))

    @app.post("/api/explain", tags=["jobs"], responses=ERRORS, status_code=202)
    def api_explain(body: ExplainIn) -> JobOut:
        """Shapley weight of each chosen factor on one leader's odds (exact, all worlds)."""
        return job_out(submit(q.plan_explain(engine, lim, levers=body.levers,
                                             target=body.target, runs=body.runs,
                                             seed=body.seed, mode=body.mode)))

    @app.post("/api/fit", tags=["jobs"], responses=ERRORS, status_code=202)
    def api_fit(body: FitIn) -> JobOut:
        """Each milestone's simulated month beside history, under prior and posterior."""
        return job_out(submit(q.plan_fit(engine, lim, runs=body.runs, seed=body.seed)))

    @app.post("/api/chronicle", tags=["jobs"], responses=ERRORS, status_code=202)
    def api_chronicle(body: ChronicleIn) -> JobOut:
        """History k told in words, or the first history matching a condition."""
        return job_out(submit(q.plan_chronicle(engine, lim, levers=body.levers,
                                               seed=body.seed, history=body.history,
                                               where=body.where, search=body.search)))

    @app.post("/api/essay", tags=["jobs"], responses=ERRORS, status_code=202)
    def api_essay(body: EssayIn) -> JobOut:
        """An essay's ranking of factors beside the model's weights (no essay text)."""
        return job_out(submit(essay_plan(dict(body.ranks), body.target, body.runs,
                                         body.seed)))

    @app.get("/api/jobs/{job_id}", tags=["jobs"],
             responses={404: {"model": Problem, "description": "no such job"},
                        422: ERRORS[422]})
    def api_job(job_id: Annotated[str, PathParam(max_length=64)]) -> JobOut:
        """A job's status and progress, and its result once done."""
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}: it may have expired; ask again")
        return job_out(job)

    @app.get("/api/health", tags=["scenario"])
    def api_health() -> dict[str, Any]:
        """Jobs running and queued, and how often the cache answered."""
        return {"ok": True, "version": __version__, "jobs": jobs.stats()}

    # -- pages --------------------------------------------------------------------------------

    def page(request: Request, name: str, context: dict[str, Any],
             plan: q.Plan | None = None, status: int = 200) -> Response:
        job = submit(plan) if plan is not None else None
        ctx = dict(context, job=job, result=None, error=None)
        if job is not None and job.status == "done":
            ctx["result"] = job.result
        elif job is not None and job.status == "failed":
            ctx["error"], status = job.error, 400
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def lever_settings(request: Request) -> dict[str, LeverValue]:
        chosen = request.query_params.getlist("lever")
        out: dict[str, LeverValue] = {}
        for name in chosen[:32]:
            value = request.query_params.get(f"value_{name}")
            out[name] = value.strip() if value and value.strip() else None
        return out

    Runs = Annotated[int, Query(ge=1, le=lim.max_runs)]
    Seed = Annotated[int, Query(ge=0, le=lim.max_seed)]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def odds_page(request: Request, runs: Runs = odds_runs,
                  seed: Seed = 1) -> Response:
        return page(request, "odds.html", {"page": "odds", "runs": runs, "seed": seed},
                    q.plan_odds(engine, lim, runs=runs, seed=seed))

    @app.get("/whatif", response_class=HTMLResponse, include_in_schema=False)
    def whatif_page(request: Request, runs: Runs = whatif_runs, seed: Seed = 1,
                    mode: Mode = "ex-ante") -> Response:
        settings = lever_settings(request)
        ctx = {"page": "whatif", "runs": runs, "seed": seed, "mode": mode, "chosen": settings}
        plan = (q.plan_whatif(engine, lim, levers=settings, runs=runs, seed=seed, mode=mode)
                if settings else None)
        return page(request, "whatif.html", ctx, plan)

    @app.get("/weights", response_class=HTMLResponse, include_in_schema=False)
    def weights_page(request: Request, target: str = default_target,
                     runs: Annotated[int, Query(ge=1, le=lim.max_explain_runs)] = min(
                         300, lim.max_explain_runs),
                     seed: Seed = 1) -> Response:
        chosen = list(dict.fromkeys(request.query_params.getlist("lever")))[:32]
        ctx = {"page": "weights", "runs": runs, "seed": seed, "target": target,
               "chosen": chosen}
        plan = (q.plan_explain(engine, lim, levers=chosen, target=target, runs=runs, seed=seed,
                               mode="ex-ante") if chosen else None)
        return page(request, "weights.html", ctx, plan)

    @app.get("/chronicle", response_class=HTMLResponse, include_in_schema=False)
    def chronicle_page(request: Request, seed: Seed = 1,
                       history: Annotated[str | None, Query(max_length=12)] = None,
                       where: Annotated[str | None, Query(max_length=500)] = None,
                       search: Runs = odds_runs) -> Response:
        settings = lever_settings(request)
        where = where.strip() if where and where.strip() else None
        k = _history_number(history)
        from urllib.parse import urlencode

        pairs = [("lever", n) for n in settings] + [(f"value_{n}", str(v))
                                                    for n, v in settings.items() if v is not None]
        ctx: dict[str, Any] = {"page": "chronicle", "seed": seed, "history": k,
                               "lever_query": urlencode(pairs),
                               "lever_cli": " ".join(f"--lever {n}" if v is None else
                                                     f"--lever {n}={v}"
                                                     for n, v in settings.items()),
                               "where": where or "", "search": search, "chosen": settings}
        plan = q.plan_chronicle(engine, lim, levers=settings, seed=seed,
                                history=k if where is None else None, where=where,
                                search=search)
        response = page(request, "chronicle.html", ctx, plan)
        return response

    @app.get("/essay", response_class=HTMLResponse, include_in_schema=False)
    def essay_page(request: Request, target: str = default_target,
                   runs: Annotated[int, Query(ge=1, le=lim.max_explain_runs)] = min(
                         300, lim.max_explain_runs),
                   seed: Seed = 1) -> Response:
        ranks: dict[str, str] = {}
        for r in lever_rows:
            tier = request.query_params.get(f"rank_{r['id']}", "")
            if tier in essay_mod.TIERS:
                ranks[r["id"]] = tier
            elif tier not in ("", "none"):
                raise UserError(f"rank of {r['id']} must be main, contributing, minor or "
                                f"none, got {tier!r}")
        ctx = {"page": "essay", "ranks": ranks, "target": target, "runs": runs, "seed": seed}
        plan = essay_plan(ranks, target, runs, seed) if ranks else None
        return page(request, "essay.html", ctx, plan)

    @app.get("/fit", response_class=HTMLResponse, include_in_schema=False)
    def fit_page(request: Request,
                 runs: Annotated[int, Query(ge=1, le=lim.max_fit_runs)] = min(
                     1000, lim.max_fit_runs),
                 seed: Seed = 1) -> Response:
        return page(request, "fit.html", {"page": "fit", "runs": runs, "seed": seed},
                    q.plan_fit(engine, lim, runs=runs, seed=seed))

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources_page(request: Request) -> Response:
        return page(request, "sources.html", {"page": "sources"})

    app.state.retell = lambda story: narrative.retell(story, s)
    env.globals["retell"] = app.state.retell
    return app


def _history_number(text: str | None) -> int | None:
    """The form's history field: empty means none given; anything else a whole number."""
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit():
        raise UserError(f"history must be a whole number such as 0 or 17, got {text!r}")
    return int(text.strip())


def _pct(p: Any, digits: int = 0) -> str:
    """A share as a percentage with ``digits`` decimals, and more where a share above nought
    would otherwise read as nought: a leader who rules in 1 history of 4,000 reads "0.03%",
    not "0.0%", which a class would take for "never"."""
    if p is None:
        return "–"
    p = float(p)
    if 0 < abs(p) < 0.01 and digits == 0:
        digits = 1
    for more in range(digits, 4):  # the fewest decimals that keep it above nought
        if abs(p) >= 0.5 * 10.0 ** -(more + 2):
            return f"{p:.{more}%}"
    # a share too small to show even so (an interval's float bound near nought) is nought
    return f"{p:.{digits}%}"


def _signed(p: Any) -> str:
    if p is None:
        return "–"
    p = float(p)
    return "±0%" if abs(p) < 0.0005 else f"{p:+.1%}"


def _namer(s: Scenario) -> Callable[[str], str]:
    names = {p.id: p.name for p in s.principals}
    names["none"] = "no one (collective leadership)"
    return lambda a: names.get(a, a)


def _month_words(ym: str) -> str:
    """'1976-10' as 'October 1976'."""
    return month_name(parse_month(ym))


def _where_examples(s: Scenario) -> list[tuple[str, str]]:
    """Conditions the chronicle page offers, each with its words, made from the scenario's own
    principals: the question's leader (or the first principal) and the next in the file."""
    by_id = {p.id: p for p in s.principals}
    first = by_id.get(s.question.leader or "", s.principals[0])
    rival = next(p for p in s.principals if p.id != first.id)
    middle = format_month((parse_month(s.start) + parse_month(s.end)) // 2)
    return [(f"winner == {rival.id}", f"{rival.called} comes to rule"),
            ("winner == none", "no one wins"),
            (f"falls.{rival.id}.party == never", f"{rival.called} is never expelled"),
            (f"winner == {first.id} and falls.{rival.id}.politburo < {middle}",
             f"{first.called} comes to rule, {rival.called} out of the {s.bodies.leadership} "
             f"before {month_name(parse_month(middle))}")]
