package console

import "github.com/gin-gonic/gin"

// mountUsers registers the users pages.
func (h *Handler) mountUsers(r gin.IRoutes, base string) {}
