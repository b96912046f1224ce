package console

import "github.com/gin-gonic/gin"

// mountWorkspace registers the workspace pages.
func (h *Handler) mountWorkspace(r gin.IRoutes, base string) {}
