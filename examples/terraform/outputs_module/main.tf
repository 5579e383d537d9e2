# An outputs-only module: it needs no provider (so it works offline), yet plan/apply still change
# Terraform state (the outputs), which is enough to exercise plan, saved-plan apply, stale plans,
# outputs with sensitive values and destroy end to end.

terraform {
  required_version = ">= 1.0.0"
}

variable "prefix" {
  description = "Name prefix for everything this stack creates."
  type        = string
  default     = "ordo"
}

variable "region" {
  description = "Where the (pretend) namespace lives."
  type        = string
  default     = "local"
}

variable "admin_token" {
  description = "A secret; only ever exposed through a sensitive output."
  type        = string
  default     = "s3cr3t"
  sensitive   = true
}

locals {
  namespace_name = "${var.prefix}-ns-${var.region}"
}

output "namespace_name" {
  description = "The namespace name derived from prefix and region."
  value       = local.namespace_name
}

output "endpoint" {
  description = "The (pretend) gRPC endpoint of the namespace."
  value       = "${local.namespace_name}.tmprl.local:7233"
}

output "api_token" {
  description = "The admin token; sensitive, so Ordo never prints or logs it."
  value       = var.admin_token
  sensitive   = true
}
