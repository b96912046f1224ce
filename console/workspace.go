package console

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/mfa"
)

// mountWorkspace registers the workspace pages: Workspace → Security, the
// owner's alone.
func (h *Handler) mountWorkspace(r gin.IRoutes, base string) {
	r.GET(base+"/workspace/security", h.guard(h.showWorkspaceSecurity))
	r.POST(base+"/workspace/security", h.form(h.saveWorkspaceSecurity))
}

const workspacePath = Path + "/workspace/security"

// The workspace page's dialogs, and its targets radio's values.
const (
	dialogWorkspacePreview = "workspace-preview" // the effect, before it is made
	dialogWorkspaceRemove  = "workspace-remove"  // the change removes every binding
	targetsBoth            = "both"
)

// workspacePage is Workspace → Security: mandatory MFA, its targets and
// the factors it allows.
type workspacePage struct {
	Frame
	Workspace admin.Workspace
}

// MFARequired, Targets and Factor are the form's state: what was posted
// last (a refused or previewed form), else the policy.
func (p *workspacePage) MFARequired() bool {
	if p.Values != nil {
		return p.Values.Get("mfa_required") == "on"
	}
	return p.Workspace.MFARequired
}

// Targets is the radio chosen: console, applications or both.
func (p *workspacePage) Targets() string {
	def := targetsBoth
	if len(p.Workspace.Targets) == 1 {
		def = p.Workspace.Targets[0]
	}
	return p.Value("targets", def)
}

func (p *workspacePage) Factor(name string) bool {
	if p.Values != nil {
		return slices.Contains(p.Values["factors"], name)
	}
	return slices.Contains(p.Workspace.Factors, name)
}

func (p *workspacePage) Resend() []hiddenField { return resendValues(p.Values) }

// ownerOnly answers a 403 page to anyone but the owner; ok is false then.
func (h *Handler) ownerOnly(r *req) bool {
	if r.owner() {
		return true
	}
	h.message(r.c, http.StatusForbidden, "Owner only",
		"The workspace's security settings are for the workspace owner. Ask the owner to change them.", false)
	return false
}

func (h *Handler) showWorkspaceSecurity(r *req) {
	if !h.ownerOnly(r) {
		return
	}
	ws, err := h.Admin.ShowWorkspace(r.c.Request.Context())
	if err != nil {
		h.fail(r.c, err)
		return
	}
	h.render(r, http.StatusOK, "workspace_security", &workspacePage{
		Frame: Frame{Title: "Workspace security", Section: "workspace"}, Workspace: *ws})
}

// saveWorkspaceSecurity previews a change of the workspace policy (a dry
// run of the very change: whom mandatory MFA asks, how many of them have
// no authenticator, what becomes of the bindings) in a dialog; its
// Confirm, with a fresh second factor, makes the change.
func (h *Handler) saveWorkspaceSecurity(r *req) {
	if !h.ownerOnly(r) {
		return
	}
	ctx := r.c.Request.Context()
	in, err := workspaceInput(r.c)
	if err != nil {
		h.refuse(r, workspacePath, err)
		return
	}
	confirm := r.c.PostForm("confirm")
	if confirm == "" {
		preview := in
		preview.DryRun = true
		res, err := h.Admin.SetWorkspace(ctx, actorOf(r), preview)
		var cr *admin.ConfirmationRequired
		switch {
		case errors.As(err, &cr):
			h.workspaceDialog(r, dialogWorkspaceRemove, map[string]string{"bindings": usersHave(cr.Bindings)})
		case err != nil:
			h.refuse(r, workspacePath, err)
		case !res.Changed:
			h.redirect(r, workspacePath, notice{Text: noticeNothing})
		default:
			h.workspaceDialog(r, dialogWorkspacePreview, workspaceEffect(res))
		}
		return
	}
	if !h.fresh(r, "Change the workspace's security settings") {
		return
	}
	in.Confirm = confirm == confirmRemove
	res, err := h.Admin.SetWorkspace(ctx, actorOf(r), in)
	var cr *admin.ConfirmationRequired
	if errors.As(err, &cr) {
		// Since the preview, the change became the one that ends OTP (an
		// application stopped using it): ask for that.
		h.workspaceDialog(r, dialogWorkspaceRemove, map[string]string{"bindings": usersHave(cr.Bindings)})
		return
	}
	if err != nil {
		h.refuse(r, workspacePath, err)
		return
	}
	text := "Workspace security saved."
	if !res.Changed {
		text = noticeNothing
	}
	h.redirect(r, workspacePath, notice{Text: text + otpOutcome(res.Keepers, res.Removed)})
}

// workspaceEffect is what the preview dialog says of a change, in words.
func workspaceEffect(res *admin.WorkspaceResult) map[string]string {
	d := map[string]string{}
	w := res.Workspace
	if w.MFARequired {
		d["required"] = countOf(res.Required, "user", "users")
		switch {
		case res.Required > 0 && res.Unbound == 0:
			d["allbound"] = "yes"
		case res.Unbound > 0:
			d["unbound"] = countOf(res.Unbound, "member has", "members have")
			if slices.Contains(w.Factors, mfa.FactorOTP) {
				d["next"] = "they will bind one at their next login"
			} else {
				d["next"] = "they will be asked for an email code at their next login"
			}
		}
		var on []string
		for _, t := range w.Targets {
			if t == mfa.TargetConsole {
				on = append(on, "the console")
			} else {
				on = append(on, "client applications")
			}
		}
		d["targets"] = joinWords(on)
	}
	if len(res.Keepers) > 0 {
		d["keepers"] = keeperNames(res.Keepers)
	}
	return d
}

// workspaceDialog goes back to the page with a dialog open over the values
// posted; its Confirm sends them again.
func (h *Handler) workspaceDialog(r *req, dialog string, data map[string]string) {
	h.dialogOver(r, workspacePath, dialog, data)
}

// workspaceInput reads the form: the mandatory switch, the targets radio
// and the factor checkboxes. Unknown targets or factors go to the service
// as they are, which refuses them.
func workspaceInput(c *gin.Context) (admin.SetWorkspaceInput, error) {
	var f fieldErrs
	required := f.switchValue("mfa_required", c)
	var targets []string
	switch t := c.PostForm("targets"); t {
	case targetsBoth:
		targets = slices.Clone(mfa.AllTargets)
	default:
		targets = []string{t}
	}
	factors := c.PostFormArray("factors")
	if err := f.err(); err != nil {
		return admin.SetWorkspaceInput{}, err
	}
	return admin.SetWorkspaceInput{MFARequired: &required, Targets: &targets, Factors: &factors}, nil
}
