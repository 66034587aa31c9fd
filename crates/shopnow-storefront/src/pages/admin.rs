//! Admin pages (admins only): the category tree and creating a category.

use maud::{Markup, html};
use serde_json::json;
use shopnow_kernel::http::Method;

use crate::api::{Call, Failure, Problem, Service};
use crate::app::{Ctx, PageError, PageResult};
use crate::form::Form;
use crate::views::{csrf_field, problem_box, text_input};
use crate::wire::Categories;

fn view(ctx: &Ctx<'_>, categories: &Categories, form: &Form, problem: Option<&Problem>) -> Markup {
    let token = ctx.csrf_token();
    let err = |field: &str| problem.and_then(|p| p.field(field));
    let name_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| categories.items.iter().find(|c| &c.id == id))
            .map_or("—", |c| c.name.as_str())
    };
    html! {
        h1 { "Categories" }
        @if let Some(p) = problem { (problem_box(p)) }
        table class="categories" {
            caption class="visually-hidden" { "Every category" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "Slug" } th scope="col" { "Parent" } } }
            tbody {
                @for c in &categories.items {
                    tr { td { (c.name) } td { code { (c.slug) } } td { (name_of(&c.parent_id)) } }
                }
            }
        }
        h2 { "New category" }
        form class="stack" method="post" action="/admin/categories" {
            (csrf_field(&token))
            (text_input("name", "name", "Name", form.text("name"), "text", err("name")))
            (text_input("slug", "slug", "Slug (lower-case words and hyphens)", form.text("slug"), "text", err("slug")))
            div class="field" {
                label for="parent_id" { "Parent" }
                select id="parent_id" name="parent_id" {
                    option value="" { "None (top level)" }
                    @for c in &categories.items { option value=(c.id) selected[c.id == form.text("parent_id")] { (c.name) } }
                }
            }
            button type="submit" class="primary" { "Create category" }
        }
    }
}

fn load(ctx: &Ctx<'_>) -> Result<Categories, PageError> {
    let id = ctx.api.request_id().to_owned();
    Ok(ctx
        .api
        .run(&Call::get(Service::Catalog, "/v1/categories"))?
        .parse(&id)?)
}

/// `GET /admin/categories` (admins).
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`] for anyone but an admin.
pub fn categories(ctx: &mut Ctx<'_>) -> PageResult {
    ctx.require_role(&["admin"])?;
    let categories = load(ctx)?;
    Ok(ctx.render(
        200,
        "Categories",
        view(ctx, &categories, &Form::default(), None),
    ))
}

/// `POST /admin/categories` (admins).
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::Csrf`].
pub fn create_category(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.require_role(&["admin"])?.access_token.clone();
    let mut body = json!({ "name": form.text("name"), "slug": form.text("slug") });
    if let (Some(parent), Some(object)) = (form.non_empty("parent_id"), body.as_object_mut()) {
        object.insert("parent_id".into(), json!(parent));
    }
    let outcome = ctx.api.run(
        &Call::send(Service::Catalog, Method::Post, "/v1/categories", Some(body)).bearer(&token),
    );
    match outcome {
        Ok(_) => Ok(ctx.redirect("/admin/categories")),
        Err(Failure::Problem(problem)) if matches!(problem.status, 400 | 409 | 422) => {
            let categories = load(ctx)?;
            let status = problem.status;
            Ok(ctx.render(
                status,
                "Categories",
                view(ctx, &categories, &form, Some(&*problem)),
            ))
        }
        Err(failure) => Err(failure.into()),
    }
}
