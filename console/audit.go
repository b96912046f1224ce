package console

import "github.com/gin-gonic/gin"

// mountAudit registers the audit pages.
func (h *Handler) mountAudit(r gin.IRoutes, base string) {}
