"""The brief's FSM states: one per step, the summary, a paused draft, an addition to a lead."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

from bot import brief_form as form


class Brief(StatesGroup):
    business = State()
    links = State()
    networks = State()
    goals = State()
    budget = State()
    start_when = State()
    name = State()
    contact = State()
    phone = State()
    email = State()
    comment = State()
    summary = State()
    paused = State()  # left for the FAQ or the menu; data["paused"] is the step to come back to
    addition = State()  # details for a submitted lead; data["add_lead"] is its id


STATE_OF: dict[str, State] = {step: getattr(Brief, step) for step in form.STEPS}
STEP_OF: dict[str, str] = {state.state: step for step, state in STATE_OF.items() if state.state}
SUMMARY = "summary"
# States in which a draft is being filled (the steps and the summary).
IN_FORM = (*STEP_OF, Brief.summary.state)


def state_of(step: str) -> State:
    return Brief.summary if step == SUMMARY else STATE_OF[step]


def step_of(state: str | None) -> str | None:
    """The step (or "summary") of an in-form state, else None."""
    if state == Brief.summary.state:
        return SUMMARY
    return STEP_OF.get(state or "")
