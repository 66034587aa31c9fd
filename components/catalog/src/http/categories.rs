//! `/v1/categories`: list (anyone) and create (admins).

use serde::{Deserialize, Serialize};
use shopnow_catalog::app::create_category::{NewCategory, create_category};
use shopnow_catalog::app::list_categories::list_categories;
use shopnow_catalog::domain::{Category, CategoryName, CategorySlug};
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::time::rfc3339;
use shopnow_kernel::{ApiError, FieldErrors};

use super::BODY_LIMIT;
use crate::wiring::App;

/// `POST /v1/categories` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    slug: Option<String>,
    name: Option<String>,
    parent_id: Option<String>,
}

impl CreateBody {
    fn validate(self, mut errors: FieldErrors) -> Result<NewCategory, ApiError> {
        let slug = required(self.slug, "slug", &mut errors)
            .and_then(|s| check(&mut errors, "slug", CategorySlug::parse(&s)));
        let name = required(self.name, "name", &mut errors)
            .and_then(|n| check(&mut errors, "name", CategoryName::parse(&n)));
        let parent_id = match self.parent_id {
            Some(id) if !shopnow_kernel::ids::is_uuid(&id) => {
                errors.add("parent_id", "is not an existing category");
                None
            }
            other => Some(other.map(|id| id.to_ascii_lowercase())),
        };
        errors.finish(|| {
            Some(NewCategory {
                slug: slug?,
                name: name?,
                parent_id: parent_id?,
            })
        })
    }
}

/// A category on the wire.
#[derive(Debug, Serialize)]
pub struct CategoryView {
    id: String,
    slug: String,
    name: String,
    parent_id: Option<String>,
    created_at: String,
}

impl From<&Category> for CategoryView {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id.clone(),
            slug: c.slug.as_str().to_owned(),
            name: c.name.as_str().to_owned(),
            parent_id: c.parent_id.clone(),
            created_at: rfc3339(c.created_at_ms),
        }
    }
}

#[derive(Debug, Serialize)]
struct CategoryList {
    items: Vec<CategoryView>,
}

/// `GET /v1/categories`: every category, by slug.
pub fn list(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let categories = app.run(request, list_categories)?;
    HttpResponse::json(
        200,
        &CategoryList {
            items: categories.iter().map(CategoryView::from).collect(),
        },
    )
}

/// `POST /v1/categories`: 201 with the category (admins only).
pub fn create(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let (body, errors) = parse_body::<CreateBody>(request, BODY_LIMIT)?;
    let new = body.validate(errors)?;
    let category = app.run(request, |ports| create_category(ports, &principal, new))?;
    let location = format!("/v1/categories/{}", category.id);
    Ok(HttpResponse::json(201, &CategoryView::from(&category))?.with_header("location", location))
}
