//! `single` mode: one fixed request, for measuring one hot route on its own.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{Method, Request};

use super::{Kind, Template, Workload};
use crate::client::Body;
use crate::rng::Rng;
use crate::target::Target;

/// The request of `shopnow-bench single`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SingleArgs {
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    pub(crate) method: String,
    /// Path and query, e.g. `/hello`.
    #[arg(long)]
    pub(crate) path: String,
    /// Extra header `NAME: VALUE` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub(crate) headers: Vec<String>,
    /// Bearer token sent as `Authorization: Bearer <TOKEN>`; `@FILE` reads it from a file (keeps
    /// it out of the process list).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) bearer: Option<String>,
    /// Request body; `@FILE` reads it from a file.
    #[arg(long)]
    pub(crate) body: Option<String>,
}

/// One request, sent every time.
#[derive(Debug)]
pub(crate) struct Single {
    kinds: Vec<Kind>,
    template: Template,
}

impl Single {
    /// Fails on a bad method, path, header or unreadable body file.
    pub(crate) fn new(target: &Target, args: &SingleArgs) -> anyhow::Result<Self> {
        let method: Method = args
            .method
            .parse()
            .with_context(|| format!("bad method {:?}", args.method))?;
        let mut template = Template::new(target, method.clone(), &args.path)?;
        for h in &args.headers {
            let Some((name, value)) = h.split_once(':') else {
                bail!("--header {h:?}: expected NAME: VALUE");
            };
            template = template.header(name.trim(), value.trim())?;
        }
        if let Some(bearer) = &args.bearer {
            let token = match bearer.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read token file {file}"))?,
                None => bearer.clone(),
            };
            template = template.header("authorization", &format!("Bearer {}", token.trim()))?;
        }
        if let Some(body) = &args.body {
            let bytes = match body.strip_prefix('@') {
                Some(file) => Bytes::from(
                    std::fs::read(file).with_context(|| format!("cannot read body file {file}"))?,
                ),
                None => Bytes::from(body.clone()),
            };
            template = template.body(bytes);
        }
        Ok(Self {
            kinds: vec![Kind::new(&format!("{method} {}", args.path), 1)],
            template,
        })
    }
}

impl Workload for Single {
    fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    fn kinds_mut(&mut self) -> &mut [Kind] {
        &mut self.kinds
    }

    fn request(&self, _kind: usize, _rng: &mut Rng) -> anyhow::Result<Request<Body>> {
        self.template.build()
    }

    fn describe(&self) -> String {
        self.kinds
            .first()
            .map_or_else(String::new, |k| format!("single {}", k.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_token_becomes_an_authorization_header() {
        let target = Target {
            url: "http://127.0.0.1:3000".to_owned(),
            authority: "127.0.0.1:3000".to_owned(),
            addr: "127.0.0.1:3000".parse().unwrap(),
        };
        let args = SingleArgs {
            method: "GET".into(),
            path: "/v1/cart".into(),
            headers: vec![],
            bearer: Some("abc".into()),
            body: None,
        };
        let request = Single::new(&target, &args)
            .unwrap()
            .request(0, &mut Rng::new(1))
            .unwrap();
        assert_eq!(request.headers()["authorization"], "Bearer abc");
    }
}
