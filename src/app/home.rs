//! The home page's to-do list (ui.md: each person lands on what they must do next), gathered
//! from every aggregate that may wait for someone.

use super::{AppError, CurrentUser, Services, Todo};

/// Everything that waits for this person: in meetings, on topics, follow-up tasks and duties.
pub async fn todos(state: &Services, user: &CurrentUser) -> Result<Vec<Todo>, AppError> {
    let mut todos = super::meeting::todos(state, user).await?;
    todos.extend(super::topic::todos(state, user).await?);
    todos.extend(super::followup::todos(state, user).await?);
    todos.extend(super::duties::todos(state, user).await?);
    Ok(todos)
}
