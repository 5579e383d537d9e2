# Example advisory policy: a large plan is not wrong, but it deserves a closer look in review.
package ordo.examples.change_volume

import rego.v1

# Above this many changed resources the plan is flagged.
max_changes := 10

changed contains rc.address if {
	rc := input.plan.resource_changes[_]
	not no_change(rc.change.actions)
}

# `no-op` and `read` (data sources) leave the infrastructure as it is.
no_change(actions) if actions == ["no-op"]

no_change(actions) if actions == ["read"]

warn contains msg if {
	count(changed) > max_changes
	msg := sprintf("%d resources change (more than %d); review the plan carefully", [count(changed), max_changes])
}
