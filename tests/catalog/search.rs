//! Search, filters and keyset pagination of `GET /v1/products`.
