//! Typed helpers for everything outside the worker (CLI, API, chaos, stream): place an order with
//! the seed's id scheme (`<id>--<uuid>`), read its status (the live query when a worker answers
//! in time, else the last status visibility knows, marked stale: never `ORDER_UNKNOWN` for an
//! order that exists), the status of many orders from one visibility list call, list and wait.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowInteractionError, WorkflowStartError};
use temporalio_client::{
    Client, WorkflowCancelOptions, WorkflowDescribeOptions, WorkflowExecutionStatus, WorkflowGetResultOptions,
    WorkflowListOptions, WorkflowQueryOptions, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;

use crate::model::{
    Kitchen, OrderRequest, OrderStatus, PizzaOrderInfo, PizzaOrderStatus, MAX_ID_LEN, ORDER_STATUS, WORKFLOW_TYPE,
};
use crate::policy::{check_kitchen, check_order};
use crate::workflows::PizzaWorkflow;
use ordo_core::time::rfc3339;
use ordo_core::RequestError;

/// How long a status query may take before visibility answers instead (the seed's API waited
/// the server's 30 s).
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(3);
/// Most ids one batch status call takes (one visibility page).
pub const MAX_BATCH: usize = 1_000;

/// Errors a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// Bad input, naming the field (nothing was started).
    #[error(transparent)]
    Invalid(#[from] RequestError),
    /// No order has this id.
    #[error("no order with id {0:?}")]
    NotFound(String),
    /// An order with this id is already running.
    #[error("{0}")]
    Conflict(String),
    /// Anything else (connection, server).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// An order as seen from outside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// The workflow id (`<id>--<uuid>`).
    pub workflow_id: String,
    /// Temporal's execution status (`Running`, `Completed`, …).
    pub execution_status: String,
    /// The seed's answer (the query, or rebuilt from visibility when `stale`).
    pub status: PizzaOrderStatus,
    /// True when no worker answered in time: `status.status` is the last one visibility knows.
    pub stale: bool,
}

/// One order of a batch status answer (from visibility).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    /// The workflow id.
    pub workflow_id: String,
    /// The order's status, `None` when no order has this id.
    pub status: Option<OrderStatus>,
    /// Temporal's execution status, `None` when no order has this id.
    pub execution_status: Option<String>,
    /// Start time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Close time, RFC 3339, when over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
}

/// Pizza orders on one task queue.
#[derive(Clone)]
pub struct OrdersClient {
    client: Client,
    task_queue: String,
    query_timeout: Duration,
}

impl OrdersClient {
    /// A client for orders on `task_queue` (`gopherpizza` by default).
    pub fn new(client: Client, task_queue: impl Into<String>) -> Self {
        Self { client, task_queue: task_queue.into(), query_timeout: DEFAULT_QUERY_TIMEOUT }
    }

    /// The same client with another status-query timeout.
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// The Temporal client underneath.
    pub fn temporal(&self) -> &Client {
        &self.client
    }

    /// The task queue orders are placed on.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }

    /// Checks and places an order: the workflow id is the seed's `<id>--<uuid>` and `order.id`
    /// is rewritten to it, as the seed's API did. Answers as the seed's `/orderPizza`:
    /// `{status: ORDER_RECEIVED, order, runId}`.
    pub async fn place(
        &self,
        order: &PizzaOrderInfo,
        kitchen: Option<Kitchen>,
    ) -> Result<PizzaOrderStatus, OrdersError> {
        check_order(order)?;
        if let Some(kitchen) = &kitchen {
            check_kitchen(kitchen)?;
        }
        let id = format!("{}--{}", order.id, uuid::Uuid::new_v4());
        if id.chars().count() > MAX_ID_LEN {
            return Err(RequestError::new("id", format!("at most {} characters", MAX_ID_LEN - 38)).into());
        }
        let mut order = order.clone();
        order.id.clone_from(&id);
        let request = OrderRequest { order: order.clone(), kitchen };
        let options = WorkflowStartOptions::new(self.task_queue.clone(), id.clone())
            .search_attributes(SearchAttributes::new([
                ORDER_STATUS.value_set(OrderStatus::Received.as_str().to_owned())
            ]))
            .build();
        match self.client.start_workflow(PizzaWorkflow::run, request.to_payload(), options).await {
            Ok(handle) => Ok(PizzaOrderStatus {
                status: OrderStatus::Received,
                order,
                run_id: handle.run_id().unwrap_or_default().to_owned(),
                reason: None,
            }),
            Err(WorkflowStartError::AlreadyStarted { .. }) => {
                Err(OrdersError::Conflict(format!("an order with id {id:?} is already running")))
            }
            Err(e) => Err(anyhow::Error::from(e).context("placing the order").into()),
        }
    }

    /// Fails with [`OrdersError::NotFound`] unless an order has this id (one describe call, no
    /// query: it answers without a worker).
    pub async fn exists(&self, id: &str) -> Result<(), OrdersError> {
        let handle = self.client.get_workflow_handle::<PizzaWorkflow>(id);
        let description = handle.describe(WorkflowDescribeOptions::default()).await.map_err(|e| interaction(id, e))?;
        if description.workflow_type() != WORKFLOW_TYPE {
            return Err(OrdersError::NotFound(id.to_owned()));
        }
        Ok(())
    }

    /// The order's status: the `getOrderStatus` query when a worker answers within the timeout,
    /// else the `orderStatus` visibility holds, marked stale.
    pub async fn status(&self, id: &str) -> Result<OrderView, OrdersError> {
        let handle = self.client.get_workflow_handle::<PizzaWorkflow>(id);
        let description = handle.describe(WorkflowDescribeOptions::default()).await.map_err(|e| interaction(id, e))?;
        if description.workflow_type() != WORKFLOW_TYPE {
            return Err(OrdersError::NotFound(id.to_owned()));
        }
        let execution_status = status_name(description.status());
        let query = handle.query(PizzaWorkflow::get_order_status, (), WorkflowQueryOptions::default());
        if let Ok(Ok(raw)) = tokio::time::timeout(self.query_timeout, query).await {
            if let Some(Ok(status)) = raw.payloads.first().map(PizzaOrderStatus::from_payload) {
                return Ok(OrderView { workflow_id: id.to_owned(), execution_status, status, stale: false });
            }
        }
        let last = description
            .search_attributes()
            .get(&ORDER_STATUS)
            .and_then(|name| OrderStatus::from_name(&name))
            .unwrap_or(OrderStatus::Received);
        Ok(OrderView {
            workflow_id: id.to_owned(),
            execution_status,
            status: PizzaOrderStatus {
                status: last,
                order: PizzaOrderInfo::with_id(id),
                run_id: description
                    .raw()
                    .workflow_execution_info
                    .as_ref()
                    .and_then(|i| i.execution.as_ref())
                    .map(|e| e.run_id.clone())
                    .unwrap_or_default(),
                reason: None,
            },
            stale: true,
        })
    }

    /// The status of up to [`MAX_BATCH`] orders from one visibility list call (never one query
    /// per order), in the order asked; ids no order has come back with `status: None`.
    pub async fn batch_status(&self, ids: &[String]) -> Result<Vec<OrderSummary>, OrdersError> {
        if ids.len() > MAX_BATCH {
            return Err(RequestError::new("ids", format!("at most {MAX_BATCH} ids, not {}", ids.len())).into());
        }
        if let Some(i) = ids.iter().position(|id| id.is_empty() || id.chars().count() > MAX_ID_LEN) {
            return Err(RequestError::new(&format!("ids[{i}]"), format!("1..={MAX_ID_LEN} characters")).into());
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let quoted: Vec<String> = ids.iter().map(|id| quote(id)).collect();
        let query = format!("WorkflowType = '{WORKFLOW_TYPE}' AND WorkflowId IN ({})", quoted.join(", "));
        let mut found: HashMap<String, OrderSummary> = HashMap::new();
        for row in self.rows(query, ids.len()).await? {
            found.insert(row.workflow_id.clone(), row);
        }
        Ok(ids
            .iter()
            .map(|id| {
                found.get(id).cloned().unwrap_or(OrderSummary {
                    workflow_id: id.clone(),
                    status: None,
                    execution_status: None,
                    started_at: None,
                    closed_at: None,
                })
            })
            .collect())
    }

    /// Orders, newest first; only those in `status` when given.
    pub async fn list(&self, status: Option<OrderStatus>, limit: usize) -> Result<Vec<OrderSummary>, OrdersError> {
        let mut query = format!("WorkflowType = '{WORKFLOW_TYPE}' AND TaskQueue = {}", quote(&self.task_queue));
        if let Some(status) = status {
            query.push_str(&format!(" AND {} = '{}'", crate::model::ORDER_STATUS_ATTRIBUTE, status.as_str()));
        }
        self.rows(query, limit).await
    }

    async fn rows(&self, query: String, limit: usize) -> Result<Vec<OrderSummary>, OrdersError> {
        let options = WorkflowListOptions::builder().limit(limit).build();
        let mut stream = self.client.list_workflows(query, options);
        let mut rows = Vec::new();
        while let Some(execution) = stream.next().await {
            let execution = execution.map_err(|e| anyhow::Error::from(e).context("listing orders"))?;
            rows.push(OrderSummary {
                workflow_id: execution.id().to_owned(),
                status: execution.search_attributes().get(&ORDER_STATUS).and_then(|s| OrderStatus::from_name(&s)),
                execution_status: Some(status_name(execution.status())),
                started_at: execution.start_time().map(rfc3339),
                closed_at: execution.close_time().map(rfc3339),
            });
        }
        Ok(rows)
    }

    /// Cancels a running order (Temporal cancellation: the step in flight is cancelled and the
    /// order ends cancelled, neither delivered nor rejected).
    pub async fn cancel(&self, id: &str, reason: &str) -> Result<(), OrdersError> {
        self.client
            .get_workflow_handle::<PizzaWorkflow>(id)
            .cancel(WorkflowCancelOptions::builder().reason(reason.to_owned()).build())
            .await
            .map_err(|e| interaction(id, e))
    }

    /// Waits for the order to end; its final answer (delivered, or rejected with a reason).
    pub async fn wait(&self, id: &str) -> Result<PizzaOrderStatus, OrdersError> {
        match self.client.get_workflow_handle::<PizzaWorkflow>(id).get_result(WorkflowGetResultOptions::default()).await
        {
            Ok(outcome) => Ok(outcome),
            Err(WorkflowGetResultError::NotFound(_)) => Err(OrdersError::NotFound(id.to_owned())),
            Err(other) => Err(anyhow::anyhow!("order {id:?} did not end normally: {other}").into()),
        }
    }
}

/// A visibility string literal: single quotes doubled, never spliced raw.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn interaction(id: &str, err: WorkflowInteractionError) -> OrdersError {
    match err {
        WorkflowInteractionError::NotFound(_) => OrdersError::NotFound(id.to_owned()),
        other => {
            let text = other.to_string();
            if ordo_core::errors::is_not_found(&text) {
                OrdersError::NotFound(id.to_owned())
            } else {
                OrdersError::Other(anyhow::anyhow!(text))
            }
        }
    }
}

fn status_name(status: WorkflowExecutionStatus) -> String {
    format!("{status:?}")
}
