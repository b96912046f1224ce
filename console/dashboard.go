package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// mountPages registers the console's sections; each lives in its own file.
func (h *Handler) mountPages(r gin.IRoutes, base string) {
	h.mountApplications(r, base)
	h.mountUsers(r, base)
	h.mountWorkspace(r, base)
	h.mountAudit(r, base)
}

type dashboardPage struct {
	Frame
	Users        storage.UserCounts
	Applications int64
	Workspace    *admin.Workspace
}

// dashboard is the console's home: how many users, in which state, and
// the applications and workspace policy at a glance.
func (h *Handler) dashboard(r *req) {
	ctx := r.c.Request.Context()
	counts, err := h.Store.CountUserStates(ctx, h.Now())
	if err != nil {
		h.fail(r.c, err)
		return
	}
	apps, err := h.Store.CountClients(ctx)
	if err != nil {
		h.fail(r.c, err)
		return
	}
	ws, err := h.Admin.ShowWorkspace(ctx)
	if err != nil {
		h.fail(r.c, err)
		return
	}
	if h.Admin.ConsoleClientID != "" && apps > 0 {
		apps-- // the console itself is not an application
	}
	h.render(r, http.StatusOK, "dashboard", &dashboardPage{Frame: Frame{Title: "Overview"}, Users: counts,
		Applications: apps, Workspace: ws})
}
