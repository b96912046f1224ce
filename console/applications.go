package console

import "github.com/gin-gonic/gin"

// mountApplications registers the applications pages.
func (h *Handler) mountApplications(r gin.IRoutes, base string) {}
