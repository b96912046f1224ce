package mfa

import "encoding/json"

// EssentialACR reads the acr values an OIDC claims parameter marks as
// essential for the ID token (OIDC Core §5.5.1.1):
//
//	{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}
//
// A voluntary acr request, or none, gives nil. A parameter that is not
// valid JSON is an error.
func EssentialACR(claims string) ([]string, error) {
	if claims == "" {
		return nil, nil
	}
	var p struct {
		IDToken map[string]*struct {
			Essential bool     `json:"essential"`
			Value     *string  `json:"value"`
			Values    []string `json:"values"`
		} `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(claims), &p); err != nil {
		return nil, err
	}
	acr := p.IDToken["acr"]
	if acr == nil || !acr.Essential {
		return nil, nil
	}
	values := acr.Values
	if acr.Value != nil {
		values = append(values, *acr.Value)
	}
	if len(values) == 0 {
		// Essential without values: any acr will do.
		return nil, nil
	}
	return values, nil
}
