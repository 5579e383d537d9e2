# Seed 001's rule: creating a Temporal Cloud user who is an admin of any namespace needs a human
# approval before it is applied. Every access is checked, not only the first one: a user can be a
# writer on one namespace and an admin of another.
package ordo.admin_users

import rego.v1

level := "soft-mandatory"

# `x := xs[_]` rather than `some x in xs`: Terraform writes `null` for an unset list, and
# iterating `null` with `[_]` is simply undefined where `some .. in` is an error in regorus.
deny contains msg if {
	rc := input.plan.resource_changes[_]
	rc.type == "temporalcloud_user"
	"create" in rc.change.actions
	access := rc.change.after.namespace_accesses[_]
	# The provider accepts the permission in any case ("Admin" is admin too).
	lower(access.permission) == "admin"
	msg := sprintf("%s would be created with admin access to a namespace", [rc.address])
}
