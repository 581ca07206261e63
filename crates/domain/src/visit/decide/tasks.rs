//! The preparation tasks (V26): derived from the request, each done once with a note.

use crate::common::DomainError;
use crate::context::Context;
use crate::deadlines::preparation_tasks;
use crate::visit_state::*;

/// V26: one of the visit's tasks done, once; doing it after its due time is kept as
/// `late`.
pub(crate) fn complete_task(
    visit: &Visit,
    c: CompleteTask,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let req = visit.request().expect("an existing visit has its request");
    let tasks = preparation_tasks(req);
    let Some((_, due)) = tasks.iter().find(|(id, _)| *id == c.task.as_str()) else {
        let ids: Vec<&str> = tasks.iter().map(|(id, _)| *id).collect();
        return Err(DomainError::invalid(
            "task",
            format!(
                "this visit has no task {}; its tasks: {}",
                c.task.as_str(),
                ids.join(", ")
            ),
        )
        .with_rule("V26"));
    };
    if visit.tasks_done.iter().any(|t| t.task == c.task) {
        return Err(DomainError::state(format!(
            "task {} is already done",
            c.task.as_str()
        )));
    }
    Ok(VisitEvent::TaskCompleted(TaskCompleted {
        task: c.task,
        notes: c.notes,
        due: *due,
        late: ctx.now > *due,
        completed_at: ctx.now,
    }))
}
