# Example hard-mandatory policy: a namespace holds workflow histories, so a plan that deletes one
# (including a replacement, which deletes first or after) is never applied, approval or not.
package ordo.examples.protect_namespaces

import rego.v1

level := "hard-mandatory"

deny contains msg if {
	rc := input.plan.resource_changes[_]
	endswith(rc.type, "_namespace")
	"delete" in rc.change.actions
	msg := sprintf("%s would be deleted; namespaces are protected", [rc.address])
}
